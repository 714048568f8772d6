// The demo's command line (examples/demo.cpp), parsed in its own translation unit: CLI11's
// code is a sixth of the demo's, and on two cores it then compiles beside the training code.
#pragma once

#include <cstdint>

#include "common/train_options.hpp"

namespace crisp::examples::demo {

struct Args {
  TrainOptions train;
  int64_t crop = 48, eval_crop = 128, eval_crops = 12, channels = 32, blocks = 4;
  int64_t kernel_min = 7, kernel_max = 11, kernels = 4;
  bool unseen_kernels = false;
  double noise = 0.01, max_seconds = 240;
  int64_t warmup = 100;
};

// Fills `a` from the command line; returns -1 to go on, or the exit code (0 after --help, 2 on
// a bad command line).
int parse_demo_args(int argc, char** argv, Args& a);

}  // namespace crisp::examples::demo
