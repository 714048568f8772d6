// TrainLoop: the part every crisp training program shares - run folder, resume, progress bar with
// rate and ETA, CSV log of every loss term, sample grids, checkpoints every N steps and on Ctrl-C.
#pragma once

// Include this one header; the program keeps only its model, data and loss code:
//
//   TrainOptions opt;  opt.iters = 5000;                     // this program's defaults
//   add_train_options(app, opt);  CRISP_CLI_PARSE(app, argc, argv);
//   return run_main("train_x", [&] {
//     check_train_options(opt, "train_x");
//     auto files = require_images(opt.data, "train_x --data");  // clear error: missing / empty
//     Net net;  optim::Adam adam(net->parameters(), optim::AdamOptions(opt.lr));
//     TrainLoop loop("train_x", opt, {"l1", "total"});         // the CSV columns
//     loop.track("net", net, adam);                            // saved / resumed together
//     loop.begin();                                            // resumes on --resume
//     while (loop.next()) {                                    // false at --iters or Ctrl-C
//       Generator g = loop.step_generator();                   // this step's random numbers
//       ... forward, backward, adam.step() ...
//       loop.log({l1.item(), total.item()});
//       if (loop.sample_due()) loop.save_samples({input, output, target});
//     }
//     loop.save_weights("net", net);                           // OUT/net.safetensors
//     return loop.finish();                                    // 0, or 130 after Ctrl-C
//   });
//
// Steps are 0-based; a checkpoint "at step s" holds the state after s completed steps and a
// resumed run starts with step s. For a resumed run to continue exactly as the uninterrupted one
// would have, draw every random number of step s from step_generator(s) (or from generator(),
// which is saved in checkpoints) and nothing from elsewhere; then model, optimiser and data match.
#include <crisp/nn/module.hpp>
#include <crisp/train/progress.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoints.hpp"
#include "cli.hpp"
#include "interrupt.hpp"
#include "run_dir.hpp"

namespace crisp::examples {

class TrainLoop {
 public:
  TrainLoop(std::string program, TrainOptions opt, std::vector<std::string> terms)
      : program_(std::move(program)), opt_(std::move(opt)), terms_(std::move(terms)), gen_(opt_.seed),
        ckpt_((std::filesystem::path(opt_.out) / "checkpoints").string(), opt_.keep_checkpoints) {
    check_train_options(opt_, program_);
    CRISP_CHECK(!terms_.empty(), ValueError, program_, "TrainLoop: expected at least one loss term name");
  }

  // Adds a model with its optimiser (and scheduler) to the checkpoints; call before begin().
  template <class Model, class T>
  void track(const std::string& name, Model& model, optim::OptimizerT<T>& optimizer,
             optim::LRScheduler* scheduler = nullptr) {
    CRISP_CHECK(!begun_, ValueError, program_, "TrainLoop::track('", name, "') must come before begin()");
    ckpt_.track(name, model, optimizer, scheduler);
  }

  // Creates OUT, loads the checkpoint when resuming, opens the log and the progress bar and
  // installs the Ctrl-C handler. Returns the first step to run.
  int64_t begin() {
    namespace fs = std::filesystem;
    CRISP_CHECK(!begun_, ValueError, program_, "TrainLoop::begin() called twice");
    begun_ = true;
    fs::create_directories(opt_.out);
    std::string from = opt_.resume_from;
    if (from.empty() && opt_.resume) {
      const auto l = ckpt_.latest();
      CRISP_CHECK(l.has_value(), IoError, program_, "--resume: no checkpoint to continue from in '", ckpt_.dir(),
                  "' (no 'latest' file); start without --resume, or pass --resume-from FOLDER");
      from = *l;
    }
    if (!from.empty()) {
      const io::CheckpointInfo info = ckpt_.load(from, &gen_);
      step_ = start_ = info.step;
      auto it = info.metadata.find("elapsed_s");
      if (it != info.metadata.end()) elapsed_before_ = std::stod(it->second);
      std::cout << program_ << ": resumed from " << from << " at step " << step_ << "\n";
    } else if (ckpt_.latest()) {
      std::cout << program_ << ": note: starting afresh in '" << opt_.out
                << "', which holds an earlier run (its checkpoints are replaced as this one saves; --resume "
                   "continues it instead)\n";
    }
    last_saved_ = from.empty() ? -1 : step_;
    log_ = std::make_unique<CsvLog>((fs::path(opt_.out) / "log.csv").string(), terms_, from.empty() ? -1 : step_);
    sums_.assign(terms_.size(), 0.0);
    guard_.emplace(program_);
    clear_interrupt();
    t0_ = Clock::now();
    const int64_t todo = std::max<int64_t>(0, opt_.iters - step_);
    bar_.emplace(todo, train::ProgressOptions{program_, "step"});
    return step_;
  }

  // Closes the step that ran (log, checkpoint cadence) and says whether another one should run:
  // false once --iters steps are done or after Ctrl-C (a checkpoint has then been written).
  bool next() {
    CRISP_CHECK(begun_, ValueError, program_, "TrainLoop::next() before begin()");
    if (in_step_) {
      in_step_ = false;
      ++step_;
      bar_->update();
      if (window_ >= opt_.log_every) flush_log();
      if (opt_.checkpoint_every > 0 && step_ % opt_.checkpoint_every == 0 && step_ < opt_.iters) save_checkpoint();
    }
    if (interrupted()) {
      stopped_ = true;
      return false;
    }
    if (step_ >= opt_.iters) return false;
    in_step_ = true;
    return true;
  }

  // The step being run (0-based) = steps completed before it.
  int64_t step() const { return step_; }
  int64_t start_step() const { return start_; }
  const TrainOptions& options() const { return opt_; }
  Device device() const { return parse_device(opt_.device, program_); }

  // The run's Generator: seeded with --seed, saved in checkpoints and restored on resume.
  Generator& generator() { return gen_; }
  // A Generator that depends only on (--seed, step, stream): the same on a resumed run.
  Generator step_generator(uint64_t stream = 0) const {
    return Generator(data::sample_seed(opt_.seed, static_cast<uint64_t>(step_), stream));
  }

  // This step's loss terms, in the order of the constructor's names. A NaN or infinite value
  // throws crisp::ValueError naming the term and the step (training would only get worse).
  void log(const std::vector<double>& values) {
    CRISP_CHECK(values.size() == terms_.size(), ValueError, program_, "TrainLoop::log: expected ", terms_.size(),
                " values, got ", values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      CRISP_CHECK(std::isfinite(values[i]), ValueError, program_, "loss term '", terms_[i], "' is ", values[i],
                  " at step ", step_, " (try a lower --lr; the last checkpoint is in ", ckpt_.dir(), ")");
      sums_[i] += values[i];
    }
    ++window_;
  }

  // True when this step should write a sample grid (every --sample-every steps, and the last).
  bool sample_due() const {
    return opt_.sample_every > 0 && ((step_ + 1) % opt_.sample_every == 0 || step_ + 1 == opt_.iters);
  }
  // OUT/samples/step_<step+1>.png: see save_sample_grid. Returns the path.
  std::string save_samples(const std::vector<Tensor<float>>& columns, int64_t max_rows = 4, float lo = 0.f,
                           float hi = 1.f) const {
    const std::string p = path("samples/" + step_name(step_ + 1) + ".png");
    save_sample_grid(p, columns, max_rows, lo, hi);
    return p;
  }

  // OUT/<name>.safetensors: the model's state_dict, for inference programs. Returns the path.
  template <class Model>
  std::string save_weights(const std::string& name, const Model& model,
                           const std::map<std::string, std::string>& metadata = {}) const {
    const std::string p = path(name + ".safetensors");
    io::save_safetensors(p, io::detail::module_ref(model).state_dict(), metadata);
    return p;
  }

  // OUT/<rel>
  std::string path(const std::string& rel) const { return (std::filesystem::path(opt_.out) / rel).string(); }
  double elapsed_s() const { return elapsed_before_ + std::chrono::duration<double>(Clock::now() - t0_).count(); }

  // Writes the last log row and a final checkpoint, ends the progress bar and prints where
  // things are. Returns the exit code: 0, or 130 when stopped by Ctrl-C.
  int finish() {
    CRISP_CHECK(begun_, ValueError, program_, "TrainLoop::finish() before begin()");
    if (window_ > 0) flush_log();
    if (step_ != last_saved_ && step_ > 0) save_checkpoint();
    if (bar_) bar_->finish();
    guard_.reset();
    if (stopped_) {
      std::cout << program_ << ": stopped at step " << step_ << " of " << opt_.iters << "; checkpoint in "
                << ckpt_.dir() << " - continue with the same command plus --resume\n";
      return 130;
    }
    std::cout << program_ << ": " << step_ << " steps done (" << train::format_duration(elapsed_s())
              << "); log " << log_->path() << ", checkpoints " << ckpt_.dir() << "\n";
    return 0;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void flush_log() {
    std::vector<double> means(sums_.size());
    std::string postfix;
    char buf[64];
    for (size_t i = 0; i < sums_.size(); ++i) {
      means[i] = sums_[i] / static_cast<double>(window_);
      std::snprintf(buf, sizeof buf, "%s%s %.4g", i ? " " : "", terms_[i].c_str(), means[i]);
      postfix += buf;
    }
    log_->write(step_, elapsed_s(), means);
    bar_->set_postfix(postfix);
    sums_.assign(sums_.size(), 0.0);
    window_ = 0;
  }

  void save_checkpoint() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", elapsed_s());
    ckpt_.save(step_, &gen_, {{"program", program_}, {"elapsed_s", buf}});
    last_saved_ = step_;
  }

  std::string program_;
  TrainOptions opt_;
  std::vector<std::string> terms_;
  Generator gen_;
  Checkpointer ckpt_;
  std::unique_ptr<CsvLog> log_;
  std::optional<InterruptGuard> guard_;
  std::optional<train::ProgressBar> bar_;
  std::vector<double> sums_;
  int64_t window_ = 0, step_ = 0, start_ = 0, last_saved_ = -1;
  double elapsed_before_ = 0;
  Clock::time_point t0_ = Clock::now();
  bool begun_ = false, in_step_ = false, stopped_ = false;
};

}  // namespace crisp::examples
