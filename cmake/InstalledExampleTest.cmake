# The embedding example's test: install this build of warden into a scratch prefix, build
# examples/embed against it with find_package(warden) as a separate project, and run it.
# examples/plugin-host uses it too.
# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK=... -DPROGRAM=... -DARGS=... -DCXX=... -DCXX_FLAGS=...
#       -DLINKER_FLAGS=... [-DEXTRA_CMAKE_ARGS=...] -P run-test.cmake
file(REMOVE_RECURSE ${WORK})
string(REPLACE "|" ";" EXTRA_CMAKE_ARGS "${EXTRA_CMAKE_ARGS}")  # "|"-separated: one -D argument
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build -G Ninja
                        -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK}/prefix
                        -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
                        ${EXTRA_CMAKE_ARGS}
                        "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the example failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the example failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${WORK}/build/${PROGRAM} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the example exited with ${rc}")
endif()
