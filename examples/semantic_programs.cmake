# The semantic face deblurring pipeline (Shen et al. 2018): train_parsing, train_semantic_deblur,
# deblur and evaluate, and their smoke tests (examples/tests/semantic_*). Included by
# examples/CMakeLists.txt, which defines crisp_add_trainer (CLI11 + examples/common on the path).
crisp_add_trainer(train_parsing train_parsing.cpp)
crisp_add_trainer(train_semantic_deblur train_semantic_deblur.cpp)
crisp_add_trainer(deblur deblur.cpp)
crisp_add_trainer(evaluate evaluate.cpp)
target_link_libraries(evaluate PRIVATE crisp_face_detectors)

if(CRISP_BUILD_TESTS)
  find_program(CRISP_BASH bash)
  if(CRISP_BASH)
    # Each test makes its own small data (synthetic faces with label maps) and also runs on
    # ../shared/data when present (evaluate --identity there with face-api.js's weights from
    # tools/fetch_face_api.sh when present); the scripts print which they used.
    set(_sem_data ${PROJECT_SOURCE_DIR}/../shared/data)
    set(_sem_dir ${CMAKE_CURRENT_BINARY_DIR}/semantic_test)
    add_test(NAME example_semantic_pipeline
             COMMAND ${CRISP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tests/semantic_pipeline_test.sh
                     $<TARGET_FILE_DIR:train_parsing> ${_sem_dir}/pipeline ${_sem_data}
                     ${PROJECT_SOURCE_DIR}/third_party/face-api/model)
    add_test(NAME example_semantic_resume
             COMMAND ${CRISP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tests/semantic_resume_test.sh
                     $<TARGET_FILE_DIR:train_parsing> ${_sem_dir}/resume ${_sem_data})
    set_tests_properties(example_semantic_pipeline example_semantic_resume
                         PROPERTIES LABELS example ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 300)
    # the pipeline test also runs evaluate's detectors (and face-api.js's nets when fetched) on
    # the 32 real faces: room for a busy machine
    set_tests_properties(example_semantic_pipeline PROPERTIES TIMEOUT 600)
  endif()
endif()

# The programs under mpirun -np 2 (demo, train_semantic_deblur; resume with 1 and 2 ranks).
if(CRISP_BUILD_TESTS AND TARGET crisp::distributed AND CRISP_BASH)
  add_test(NAME example_distributed_programs
           COMMAND ${CRISP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tests/distributed_programs_test.sh ${CRISP_MPIEXEC}
                   $<TARGET_FILE_DIR:train_semantic_deblur> ${CMAKE_CURRENT_BINARY_DIR}/distributed_test)
  set_tests_properties(example_distributed_programs PROPERTIES LABELS "distributed;example" PROCESSORS 2 TIMEOUT 300
                       ENVIRONMENT "OMP_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_btl_vader_single_copy_mechanism=none")
endif()
