// The options every crisp training program shares (data and output folders, iterations, batch
// size, learning rate, seed, device, conv math, resume, logging cadences), their checks, and
// run_main. No CLI11 here: cli.hpp adds them to a command line. CLI11's headers define validator
// objects that every including translation unit constructs and compiles (a sixth of the demo's
// code), so code that only needs the options includes this header.
#pragma once

#include <crisp/backend/conv_math.hpp>
#include <crisp/backend/cpu/cpu_features.hpp>
#include <crisp/data/dataset.hpp>
#include <crisp/tensor/device.hpp>
#include <crisp/tensor/error.hpp>
#if defined(CRISP_WITH_CUDA)
#include <crisp/backend/cuda/conv.hpp>
#include <crisp/backend/cuda/runtime.hpp>
#endif

#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "distributed.hpp"

namespace crisp::examples {

struct TrainOptions {
  std::string data;                 // folder of training images ("" = the program's default, if any)
  std::string out = "run";          // run folder: log.csv, samples/, checkpoints/, weights
  int64_t iters = 1000;             // total optimiser steps (a resumed run continues up to this)
  int64_t batch_size = 8;
  double lr = 1e-4;
  uint64_t seed = 0;
  std::string device = "cpu";       // "cpu" or "cuda" / "cuda:N"
  std::string conv_math = "fp32";   // convolution arithmetic: fp32, bf16 (or tf32 on CUDA)
  bool resume = false;              // continue from OUT/checkpoints/latest
  std::string resume_from;          // continue from this checkpoint folder (implies resume)
  int64_t checkpoint_every = 1000;  // steps between checkpoints (0 = only at the end / on Ctrl-C)
  int64_t sample_every = 500;       // steps between sample grids (0 = never)
  int64_t log_every = 10;           // steps averaged into one CSV row / progress-bar postfix
  int64_t keep_checkpoints = 2;     // newest checkpoint folders kept (older ones are deleted)
  double dist_timeout = 300;        // seconds a collective may take under mpirun before the job ends
};

// "cpu", "cuda", "cuda:N" -> Device. CUDA needs a build with CRISP_WITH_CUDA (crisp::cuda linked).
inline Device parse_device(const std::string& s, const std::string& program) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    int index = dist().local_rank();  // plain "cuda" under mpirun: one GPU per rank of this machine
    if (s.size() > 5) {
      const std::string n = s.substr(5);
      CRISP_CHECK(!n.empty() && n.find_first_not_of("0123456789") == std::string::npos && n.size() < 4, ValueError,
                  program, "expected --device cpu, cuda or cuda:N, got '", s, "'");
      index = std::stoi(n);
    }
#if defined(CRISP_WITH_CUDA)
    const int visible = cuda::device_count();
    CRISP_CHECK(index < visible, Error, program, "--device ", s, ": ",
                visible == 0 ? std::string("no CUDA device is visible to this process (no GPU, or no driver)")
                             : "only " + std::to_string(visible) + " CUDA device(s) are visible",
                "; use --device cpu");
    return Device::cuda(index);
#else
    (void)index;
    throw Error(program + ": --device " + s +
                     " asked for CUDA, but this program was built without CUDA (configure with "
                     "-DCRISP_WITH_CUDA=ON on a machine with nvcc and cuDNN); use --device cpu");
#endif
  }
  throw ValueError(program + ": expected --device cpu, cuda or cuda:N, got '" + s + "'");
}

// --conv-math: the convolution math of the run's device (cpu:: or cuda::set_conv_math). A CPU run in bf16 on a CPU without
// avx512_bf16, or in tf32, is refused here rather than at the first convolution.
inline ConvMath parse_conv_math(const std::string& s, const std::string& device, const std::string& program) {
  ConvMath m = ConvMath::FP32;
  if (s == "bf16")
    m = ConvMath::BF16;
  else if (s == "tf32")
    m = ConvMath::TF32;
  else
    CRISP_CHECK(s == "fp32", ValueError, program, "expected --conv-math fp32, bf16 or tf32, got '", s, "'");
  if (device.rfind("cuda", 0) != 0) {
    CRISP_CHECK(m != ConvMath::TF32, ValueError, program, "--conv-math tf32 is a CUDA mode; use fp32 or bf16 on the CPU");
    CRISP_CHECK(m != ConvMath::BF16 || cpu::cpu_has(cpu::kAvx512Bf16), ValueError, program,
                "--conv-math bf16 on the CPU needs avx512_bf16; this CPU has ", cpu::cpu_features_string(),
                " (use --conv-math fp32)");
  }
  return m;
}

// Checks the shared options (ranges, device); throws crisp::ValueError naming the option.
inline void check_train_options(const TrainOptions& o, const std::string& program) {
  CRISP_CHECK(o.iters >= 1, ValueError, program, "expected --iters >= 1, got ", o.iters);
  CRISP_CHECK(o.batch_size >= 1, ValueError, program, "expected --batch-size >= 1, got ", o.batch_size);
  CRISP_CHECK(o.lr > 0, ValueError, program, "expected --lr > 0, got ", o.lr);
  CRISP_CHECK(!o.out.empty(), ValueError, program, "expected a non-empty --out folder");
  CRISP_CHECK(o.checkpoint_every >= 0, ValueError, program, "expected --checkpoint-every >= 0, got ",
              o.checkpoint_every);
  CRISP_CHECK(o.sample_every >= 0, ValueError, program, "expected --sample-every >= 0, got ", o.sample_every);
  CRISP_CHECK(o.log_every >= 1, ValueError, program, "expected --log-every >= 1, got ", o.log_every);
  CRISP_CHECK(o.keep_checkpoints >= 1, ValueError, program, "expected --keep-checkpoints >= 1, got ",
              o.keep_checkpoints);
  CRISP_CHECK(o.dist_timeout > 0, ValueError, program, "expected --dist-timeout > 0 seconds, got ", o.dist_timeout);
  // Joins the mpirun job, if any, before anything else needs the rank (devices, output).
  dist().init(program, o.dist_timeout, o.device.rfind("cuda", 0) == 0);
  CRISP_CHECK(o.batch_size % dist().world_size() == 0, ValueError, program, "expected --batch-size (the global batch) ",
              "to be a multiple of the ", dist().world_size(), " ranks, got ", o.batch_size);
  parse_device(o.device, program);
  const ConvMath math = parse_conv_math(o.conv_math, o.device, program);
#if defined(CRISP_WITH_CUDA)
  if (o.device.rfind("cuda", 0) == 0) return cuda::set_conv_math(math);
#endif
  cpu::set_conv_math(math);
}

// The images of a data folder, sorted; a missing folder, a file, or a folder without images
// throws crisp::IoError "<program> --data: folder 'X' does not exist" / "... holds no images".
inline std::vector<std::string> require_images(const std::string& dir, const std::string& what) {
  CRISP_CHECK(!dir.empty(), ValueError, what, "expected a folder of images, got none (pass --data DIR)");
  return data::list_images(dir, what);
}

// Runs fn() and turns exceptions into "program: error: ..." on stderr and exit code 1.
template <class F>
int run_main(const std::string& program, F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    // Under mpirun the other ranks would wait for this one until --dist-timeout: end them now.
    if (dist().active()) dist().abort_job(program + ": error: " + e.what());
    std::cerr << program << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace crisp::examples
