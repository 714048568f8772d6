# CRISP_WITH_MPI: AUTO turns the distributed layer (crisp::distributed) on when an MPI library is
# found (Debian: libopenmpi-dev openmpi-bin). crisp::crisp never links MPI; only programs that link
# crisp::distributed see CRISP_WITH_MPI=1 and may include <crisp/distributed/distributed.hpp>.
# With the CUDA backend on and NCCL found, crisp::distributed also gets the NCCL backend for device
# tensors (CRISP_WITH_NCCL=1). CRISP_MPI_ENABLED / CRISP_NCCL_ENABLED tell tests/ and benchmarks/.
set(CRISP_MPI_ENABLED OFF)
set(CRISP_NCCL_ENABLED OFF)
if(NOT CRISP_WITH_MPI STREQUAL "OFF")
  find_package(MPI QUIET COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(CRISP_MPI_ENABLED ON)
  elseif(CRISP_WITH_MPI STREQUAL "ON")
    message(FATAL_ERROR "CRISP_WITH_MPI=ON but no MPI library was found (Debian: apt-get install libopenmpi-dev "
                        "openmpi-bin)")
  endif()
endif()

if(CRISP_MPI_ENABLED)
  add_library(crisp_distributed INTERFACE)
  add_library(crisp::distributed ALIAS crisp_distributed)
  set_target_properties(crisp_distributed PROPERTIES EXPORT_NAME distributed)
  target_link_libraries(crisp_distributed INTERFACE crisp MPI::MPI_CXX)
  target_compile_definitions(crisp_distributed INTERFACE CRISP_WITH_MPI=1)
  # mpiexec for the tests: --oversubscribe lets 2 ranks share fewer cores.
  set(CRISP_MPIEXEC "${MPIEXEC_EXECUTABLE}" CACHE FILEPATH "mpirun used by the distributed tests")
  if(CRISP_CUDA_ENABLED)
    find_path(CRISP_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
    find_library(CRISP_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib64 lib)
    if(CRISP_NCCL_INCLUDE_DIR AND CRISP_NCCL_LIBRARY)
      set(CRISP_NCCL_ENABLED ON)
      target_link_libraries(crisp_distributed INTERFACE crisp_cuda ${CRISP_NCCL_LIBRARY})
      target_include_directories(crisp_distributed INTERFACE $<BUILD_INTERFACE:${CRISP_NCCL_INCLUDE_DIR}>)
      target_compile_definitions(crisp_distributed INTERFACE CRISP_WITH_NCCL=1)
    endif()
  endif()
  message(STATUS "crisp: distributed ON (MPI ${MPI_CXX_VERSION}, ${MPIEXEC_EXECUTABLE}; NCCL ${CRISP_NCCL_ENABLED})")
else()
  message(STATUS "crisp: distributed OFF (no MPI)")
endif()
