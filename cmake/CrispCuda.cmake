# CRISP_WITH_CUDA: AUTO turns the CUDA backend on when nvcc, cuBLAS and cuDNN are all found.
# Nothing here is needed for the CPU build. CRISP_CUDA_ENABLED tells tests/ and benchmarks/.
set(CRISP_CUDA_ENABLED OFF)
if(NOT CRISP_WITH_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  find_package(CUDAToolkit QUIET)
  find_path(CRISP_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES cuda/include include)
  find_library(CRISP_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib64 lib)
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND AND TARGET CUDA::cublas
     AND CRISP_CUDNN_INCLUDE_DIR AND CRISP_CUDNN_LIBRARY)
    set(CRISP_CUDA_ENABLED ON)
  elseif(CRISP_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CRISP_WITH_CUDA=ON but nvcc, cuBLAS or cuDNN was not found "
                        "(nvcc: '${CMAKE_CUDA_COMPILER}', cuDNN: '${CRISP_CUDNN_LIBRARY}')")
  endif()
endif()

if(CRISP_CUDA_ENABLED)
  # Hopper (sm_90: H100 / H200) machine code plus compute_90 PTX that newer GPUs JIT; override with
  # -DCMAKE_CUDA_ARCHITECTURES=... (one or two arches keep the build time sane).
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  enable_language(CUDA)
  # The CUDA backend is the one compiled part of crisp: the kernels (kernels/*.cu) and the host
  # code that owns CUDA state (src/cuda/*.cpp: allocator hooks, cuDNN). Everything else stays
  # header-only; programs that link crisp::cuda see CRISP_WITH_CUDA=1 and get device tensors.
  file(GLOB CRISP_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kernels/*.cu
                                                 ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/*.cpp)
  add_library(crisp_cuda STATIC ${CRISP_CUDA_SOURCES})
  add_library(crisp::cuda ALIAS crisp_cuda)
  set_target_properties(crisp_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_EXTENSIONS OFF
                        POSITION_INDEPENDENT_CODE ON CUDA_SEPARABLE_COMPILATION OFF)
  target_compile_features(crisp_cuda PUBLIC cxx_std_20)
  target_link_libraries(crisp_cuda PUBLIC crisp CUDA::cudart CUDA::cublas ${CRISP_CUDNN_LIBRARY})
  target_include_directories(crisp_cuda PUBLIC $<BUILD_INTERFACE:${CRISP_CUDNN_INCLUDE_DIR}>)
  target_compile_definitions(crisp_cuda PUBLIC CRISP_WITH_CUDA=1)
  target_compile_options(crisp_cuda PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>")
  # The ptxas gate: a register spill or any local memory (stack frame) in a kernel fails the build.
  # The kernels are written to live in registers and shared memory; a spill is a silent slowdown
  # that no test on the CPU can see. --warning-as-error turns exactly ptxas's warnings into errors
  # (nvcc's -Werror all-warnings would too, but also every front-end warning).
  option(CRISP_CUDA_PTXAS_GATE "Fail the CUDA build on register spills or local memory in kernels" ON)
  if(CRISP_CUDA_PTXAS_GATE)
    target_compile_options(crisp_cuda PRIVATE
                           "$<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-warn-spills,-warn-lmem-usage,--warning-as-error>")
  else()
    target_compile_options(crisp_cuda PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-warn-spills,-warn-lmem-usage>")
  endif()
  message(STATUS "crisp: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, arch ${CMAKE_CUDA_ARCHITECTURES}, "
                 "cuDNN ${CRISP_CUDNN_LIBRARY})")
else()
  message(STATUS "crisp: CUDA backend OFF")
endif()
