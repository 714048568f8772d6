# Compile flags for crisp's own programs (tests, examples, benchmarks). The crisp::crisp target
# itself imposes no architecture flags: users pick theirs, and the GEMM micro-kernel follows
# the compiler's target (-mavx512f, -mavx2 -mfma, or the portable fallback).
function(crisp_target_defaults target)
  target_link_libraries(${target} PRIVATE crisp::crisp)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CRISP_NATIVE_ARCH)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(CRISP_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${CRISP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${CRISP_SANITIZE})
  endif()
endfunction()

set(CRISP_SANITIZE "" CACHE STRING "Sanitizers for crisp's own programs, e.g. address,undefined")
