// The command-line options every crisp training program shares (CLI11): data and output folders,
// iterations, batch size, learning rate, seed, device, resume and the logging cadences.
#pragma once

// A program sets its own defaults in a TrainOptions before add_train_options (so --help shows
// them), adds its own options beside them, and calls check_train_options after parsing:
//
//   TrainOptions opt;  opt.iters = 20000;  opt.lr = 1e-4;  opt.out = "runs/parsing";
//   add_train_options(app, opt);                       // --data --out --iters --batch-size ...
//   app.add_option("--crop", crop, "training crop side")->capture_default_str();
//   CRISP_CLI_PARSE(app, argc, argv);                  // exit code 2 on a bad command line
//   return run_main("train_parsing", [&] { check_train_options(opt, "train_parsing"); ... });
//
// Exit codes of the programs: 0 done, 1 error (message on stderr), 2 bad command line,
// 130 stopped by Ctrl-C after writing a checkpoint (see interrupt.hpp).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_parse.hpp"
#include "distributed.hpp"
#include "train_options.hpp"

namespace crisp::examples {

// Adds the shared options to `app`, with the values already in `opt` as their defaults.
inline void add_train_options(CLI::App& app, TrainOptions& opt) {
  app.add_option("--data", opt.data, "folder of training images")->capture_default_str();
  app.add_option("--out", opt.out, "run folder (log.csv, samples/, checkpoints/, weights)")->capture_default_str();
  app.add_option("--iters", opt.iters, "total training steps")->capture_default_str();
  app.add_option("--batch-size", opt.batch_size, "images per step")->capture_default_str();
  app.add_option("--lr", opt.lr, "learning rate")->capture_default_str();
  app.add_option("--seed", opt.seed, "random seed (same seed, same run)")->capture_default_str();
  app.add_option("--device", opt.device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--conv-math", opt.conv_math,
                 "convolution arithmetic: fp32, bf16 (bf16 operands, fp32 accumulation and weights; "
                 "CPU needs avx512_bf16) or tf32 (CUDA only)")
      ->capture_default_str();
  app.add_flag("--resume", opt.resume, "continue from OUT/checkpoints/latest");
  app.add_option("--resume-from", opt.resume_from, "continue from this checkpoint folder");
  app.add_option("--checkpoint-every", opt.checkpoint_every, "steps between checkpoints (0: end and Ctrl-C only)")
      ->capture_default_str();
  app.add_option("--sample-every", opt.sample_every, "steps between sample grids in OUT/samples (0: never)")
      ->capture_default_str();
  app.add_option("--log-every", opt.log_every, "steps averaged into one row of OUT/log.csv")->capture_default_str();
  app.add_option("--keep-checkpoints", opt.keep_checkpoints, "newest checkpoints kept")->capture_default_str();
  app.add_option("--dist-timeout", opt.dist_timeout,
                 "under mpirun: seconds a collective may wait for the other ranks before the job ends with an error")
      ->capture_default_str();
}

// Writes every option's value (defaults included) to `path` as CLI11's INI, so a run records
// how it was started; `--config` is not wired up, the file is for people.
inline void write_config(const CLI::App& app, const std::string& path) {
  if (!dist().is_main()) return;  // under mpirun, rank 0 writes
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  std::ofstream f(path);
  f << app.config_to_str(true, true);
}

}  // namespace crisp::examples
