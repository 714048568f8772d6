# cmake -P script behind the package_* tests (see CMakeLists.txt next to it). Inputs (-D):
#   MODE             find_package | add_subdirectory
#   CRISP_SOURCE_DIR the crisp source tree under test
#   CONSUMER_DIR     the consumer project to configure
#   CONSUMER_MAIN    its main.cpp (shared by both consumers)
#   WORK_DIR         scratch directory, wiped first
#   GENERATOR, MAKE_PROGRAM, CXX_COMPILER   taken from the build that runs the test
cmake_minimum_required(VERSION 3.20)

foreach(v MODE CRISP_SOURCE_DIR CONSUMER_DIR CONSUMER_MAIN WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${v}=... is required")
  endif()
endforeach()

set(_tool_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(MAKE_PROGRAM)
  list(APPEND _tool_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
# Fast consumers: no optimisation, no CUDA probing, none of crisp's own programs.
set(_consumer_args -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 -DCRISP_WITH_CUDA=OFF)

# Runs one step; on failure prints everything it said and stops the test.
function(step name)
  list(JOIN ARGN " " cmdline)
  message(STATUS "[${MODE}] ${name}: ${cmdline}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${MODE}] step '${name}' FAILED (exit ${rc}):\n  ${cmdline}\n---- output ----\n${out}\n----------------")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_build "${WORK_DIR}/consumer-build")

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  step("configure crisp for install" ${CMAKE_COMMAND} -S "${CRISP_SOURCE_DIR}" -B "${WORK_DIR}/crisp-build"
       ${_tool_args} "-DCMAKE_INSTALL_PREFIX=${prefix}" -DCMAKE_BUILD_TYPE=Release
       -DCRISP_BUILD_TESTS=OFF -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_BUILD_BENCHMARKS=OFF -DCRISP_WITH_CUDA=OFF)
  step("install crisp" ${CMAKE_COMMAND} --install "${WORK_DIR}/crisp-build")

  # The install tree must hold the headers and the whole package configuration.
  file(GLOB config_dirs LIST_DIRECTORIES true "${prefix}/lib*/cmake/crisp")
  if(NOT config_dirs)
    message(FATAL_ERROR "[${MODE}] no <prefix>/lib*/cmake/crisp directory under ${prefix}")
  endif()
  list(GET config_dirs 0 config_dir)
  foreach(f "${prefix}/include/crisp/crisp.hpp"
            "${prefix}/include/crisp/tensor/tensor.hpp"
            "${config_dir}/crispConfig.cmake"
            "${config_dir}/crispConfigVersion.cmake"
            "${config_dir}/crispTargets.cmake")
    if(NOT EXISTS "${f}")
      message(FATAL_ERROR "[${MODE}] cmake --install did not install ${f}")
    endif()
  endforeach()
  # Every header of the source tree is installed.
  file(GLOB_RECURSE src_headers RELATIVE "${CRISP_SOURCE_DIR}/include" "${CRISP_SOURCE_DIR}/include/crisp/*.hpp")
  foreach(h IN LISTS src_headers)
    if(NOT EXISTS "${prefix}/include/${h}")
      message(FATAL_ERROR "[${MODE}] header ${h} is missing from the install tree")
    endif()
  endforeach()

  step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${consumer_build}" ${_tool_args}
       ${_consumer_args} "-DCMAKE_PREFIX_PATH=${prefix}" "-DCONSUMER_MAIN=${CONSUMER_MAIN}")
  # It must have found the installed package, not something else on the system.
  file(STRINGS "${consumer_build}/CMakeCache.txt" found_dir REGEX "^crisp_DIR:")
  string(REGEX REPLACE "^crisp_DIR:[A-Z]+=" "" found_dir "${found_dir}")
  file(REAL_PATH "${found_dir}" found_dir)
  file(REAL_PATH "${config_dir}" config_dir_real)
  if(NOT found_dir STREQUAL config_dir_real)
    message(FATAL_ERROR "[${MODE}] consumer found crisp in '${found_dir}', expected '${config_dir_real}'")
  endif()
elseif(MODE STREQUAL "add_subdirectory")
  step("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${consumer_build}" ${_tool_args}
       ${_consumer_args} "-DCRISP_SOURCE_DIR=${CRISP_SOURCE_DIR}" "-DCONSUMER_MAIN=${CONSUMER_MAIN}")
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

step("build consumer" ${CMAKE_COMMAND} --build "${consumer_build}")
step("run consumer" "${consumer_build}/app")
message(STATUS "[${MODE}] consumer output:\n${step_output}")
message(STATUS "[${MODE}] OK")
