# Smoke test of synth_blur (cmake -DEXE=<synth_blur> -DDIR=<scratch folder> -P this file): makes
# demo images, runs a small synthesis, and checks the files a PairedFolderDataset would read.
file(REMOVE_RECURSE ${DIR})

function(run_ok)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run_ok(${EXE} --help)
run_ok(${EXE} --make-demo-input ${DIR}/in)
run_ok(${EXE} --input ${DIR}/in --output ${DIR}/out --kernels 2 --sizes 13,15 --crop 48 --per-image 2 --seed 3)

foreach(f kernels.safetensors contact_sheet.png blurred_kernels.csv)
  if(NOT EXISTS ${DIR}/out/${f})
    message(FATAL_ERROR "synth_blur did not write ${DIR}/out/${f}")
  endif()
endforeach()
file(GLOB blurred RELATIVE ${DIR}/out/blurred ${DIR}/out/blurred/*.png)
file(GLOB sharp RELATIVE ${DIR}/out/sharp ${DIR}/out/sharp/*.png)
list(SORT blurred)
list(SORT sharp)
list(LENGTH blurred nb)
if(NOT nb EQUAL 8)
  message(FATAL_ERROR "expected 8 blurred images (4 demo images x 2), got ${nb}: ${blurred}")
endif()
if(NOT blurred STREQUAL sharp)
  message(FATAL_ERROR "blurred and sharp file names differ (PairedFolderDataset pairs by name):\n${blurred}\n${sharp}")
endif()

# A missing input folder: exit code 1 and a message naming the folder, not a crash.
execute_process(COMMAND ${EXE} --input ${DIR}/missing --output ${DIR}/out2 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "missing' does not exist")
  message(FATAL_ERROR "expected exit code 1 and a clear error for a missing folder, got ${rc}: ${err}")
endif()
# An empty one.
file(MAKE_DIRECTORY ${DIR}/empty)
execute_process(COMMAND ${EXE} --input ${DIR}/empty --output ${DIR}/out3 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "holds no images")
  message(FATAL_ERROR "expected exit code 1 and a clear error for an empty folder, got ${rc}: ${err}")
endif()
