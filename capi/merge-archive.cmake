# cmake -DAR=... -DMRI=... -P merge-archive.cmake: runs `ar -M` on the MRI script (one archive
# from several).
execute_process(COMMAND ${AR} -M INPUT_FILE ${MRI} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ar -M < ${MRI} failed (${rc})")
endif()
