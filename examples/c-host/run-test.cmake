# The C host example's test: install this build into a scratch prefix, compile host.c with
# `cc host.c $(pkg-config --cflags --libs extism)` as a libextism user would, and run it.
# cmake -DBUILD_DIR=... -DSOURCE=... -DWORK=... -DPLUGIN=... -DCC=... -DC_FLAGS=... -P run-test.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
file(GLOB pc_dirs ${WORK}/prefix/lib*/pkgconfig ${WORK}/prefix/lib/*/pkgconfig)
list(JOIN pc_dirs ":" pc_path)
set(ENV{PKG_CONFIG_PATH} "${pc_path}")
execute_process(COMMAND pkg-config --cflags --libs extism RESULT_VARIABLE rc
                OUTPUT_VARIABLE flags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs extism failed: ${err}")
endif()
message("pkg-config --cflags --libs extism: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(c_flags UNIX_COMMAND "${C_FLAGS}")
execute_process(COMMAND ${CC} ${c_flags} ${SOURCE} ${flags} -lpthread -o ${WORK}/host
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling host.c failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${WORK}/host ${PLUGIN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the example exited with ${rc}")
endif()
