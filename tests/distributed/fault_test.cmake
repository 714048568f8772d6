# Runs one hidden fault case of the distributed test program as 2 ranks and passes only when the
# job ends, with a non-zero exit status, within 60 s (CRISP_DIST_TIMEOUT_S is 3 s), and the output
# names the rank: either mpirun's report of the dead rank or crisp's timeout message.
#   cmake -DMPIRUN=mpirun -DPROGRAM=path/to/distributed_test_distributed -DCASE=[.fault_kill] -P fault_test.cmake
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${MPIRUN} -np 2 --oversubscribe ${PROGRAM} ${CASE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
message("exit status: ${rc} after ${secs} s\n--- stdout\n${out}\n--- stderr\n${err}")
if(rc STREQUAL "0")
  message(FATAL_ERROR "the job with a dead / hung rank exited 0")
endif()
if(rc MATCHES "timeout|Process terminated")
  message(FATAL_ERROR "the job with a dead / hung rank did not end within 60 s: ${rc}")
endif()
set(all "${out}\n${err}")
if(NOT all MATCHES "rank 1 with PID|crisp::distributed: rank [01] of 2: all_reduce #[0-9]+ .* did not complete within")
  message(FATAL_ERROR "the job ended, but no message names the rank that failed")
endif()
