# CRISP_WITH_CUDA: AUTO turns the CUDA backend on when nvcc, cuBLAS and cuDNN are all found.
# Nothing here is needed for the CPU build.
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
  enable_language(CUDA)
  add_library(crisp_cuda INTERFACE)
  add_library(crisp::cuda ALIAS crisp_cuda)
  target_link_libraries(crisp_cuda INTERFACE crisp CUDA::cudart CUDA::cublas ${CRISP_CUDNN_LIBRARY})
  target_include_directories(crisp_cuda INTERFACE $<BUILD_INTERFACE:${CRISP_CUDNN_INCLUDE_DIR}>)
  target_compile_definitions(crisp_cuda INTERFACE CRISP_WITH_CUDA=1)
  message(STATUS "crisp: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, cuDNN ${CRISP_CUDNN_LIBRARY})")
else()
  message(STATUS "crisp: CUDA backend OFF")
endif()
