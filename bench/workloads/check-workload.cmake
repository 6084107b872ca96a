# Runs a workload natively and under warden (fuel metering on, a budget it cannot exhaust) and
# requires the same checksum line. Usage: cmake -DWARDEN=... -DWASM=... -DNATIVE=... -P this
execute_process(COMMAND ${NATIVE} OUTPUT_VARIABLE native RESULT_VARIABLE native_rc)
execute_process(COMMAND ${WARDEN} run --fuel 100000000000000 ${WASM}
                OUTPUT_VARIABLE wasm ERROR_VARIABLE wasm_err RESULT_VARIABLE wasm_rc)
if(NOT native_rc EQUAL 0 OR NOT native MATCHES "^checksum: [^\n]+\n$")
  message(FATAL_ERROR "native build failed (${native_rc}): ${native}")
endif()
if(NOT wasm_rc EQUAL 0)
  message(FATAL_ERROR "warden run failed (${wasm_rc}): ${wasm_err}")
endif()
if(NOT wasm STREQUAL native)
  message(FATAL_ERROR "checksum mismatch: native '${native}', warden '${wasm}'")
endif()
message(STATUS "same checksum: ${wasm}")
