# Every binary module of the spec suite's core scripts (SIMD ones included) and of the
# relaxed-SIMD proposal's (made at build time, never committed): the fuzzers' seed corpus and
# the benchmarks' inputs.
# Usage: cmake -DSUITE=... -DWORK=... -DCORPUS=... -P suite-modules.cmake
file(GLOB scripts ${SUITE}/core/*.wast ${SUITE}/proposals/relaxed-simd/*.wast)
if(NOT scripts)
  message(FATAL_ERROR "no .wast files under ${SUITE}/core: set WARDEN_TESTSUITE (README.md)")
endif()
file(MAKE_DIRECTORY ${CORPUS})
foreach(script ${scripts})
  get_filename_component(name ${script} NAME_WE)
  file(MAKE_DIRECTORY ${WORK}/${name})
  execute_process(COMMAND wast2json --enable-relaxed-simd ${script} -o ${WORK}/${name}/${name}.json
                  RESULT_VARIABLE status ERROR_QUIET)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "wast2json failed on ${script} (is wabt installed?)")
  endif()
  file(GLOB modules ${WORK}/${name}/*.wasm)
  foreach(module ${modules})
    get_filename_component(base ${module} NAME)
    file(COPY_FILE ${module} ${CORPUS}/${base} ONLY_IF_DIFFERENT)
  endforeach()
endforeach()
