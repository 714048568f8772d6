# The CycleGAN -> SRN pipeline: train_cyclegan (unpaired sharp <-> blurred), make_pairs (labels
# sharp faces with the trained sharp -> blurred generator) and train_srn (SRN on the pairs).
crisp_add_trainer(train_cyclegan train_cyclegan.cpp)
crisp_add_trainer(make_pairs make_pairs.cpp)
crisp_add_trainer(train_srn train_srn.cpp)

if(CRISP_BUILD_TESTS)
  find_program(CRISP_BASH bash)
  if(CRISP_BASH AND TARGET synth_blur AND TARGET evaluate AND TARGET deblur)
    # train_cyclegan (with --resume, and --gan-loss log) -> make_pairs (80/20 split) -> train_srn
    # on tiny networks, then deblur / evaluate --pairs with the SRN and CycleGAN's G_B, plus the
    # errors for missing / empty folders; real faces from ../shared/data when present.
    add_test(NAME example_cyclegan_srn_chain
             COMMAND ${CRISP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tests/cyclegan_srn_chain_test.sh
                     $<TARGET_FILE:train_cyclegan> $<TARGET_FILE:make_pairs> $<TARGET_FILE:train_srn>
                     $<TARGET_FILE:synth_blur> ${CMAKE_CURRENT_BINARY_DIR}/cyclegan_srn_chain_test
                     ${PROJECT_SOURCE_DIR}/../shared/data $<TARGET_FILE:evaluate> $<TARGET_FILE:deblur>)
    # train_srn stopped by SIGINT after its first checkpoint (exit code 130), then --resume.
    add_test(NAME example_srn_resume
             COMMAND ${CRISP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/tests/srn_resume_test.sh
                     $<TARGET_FILE:train_srn> $<TARGET_FILE:synth_blur>
                     ${CMAKE_CURRENT_BINARY_DIR}/srn_resume_test ${PROJECT_SOURCE_DIR}/../shared/data)
    set_tests_properties(example_cyclegan_srn_chain example_srn_resume
                         PROPERTIES LABELS example ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 300)
  endif()
endif()
