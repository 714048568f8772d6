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
//
// Under mpirun -np N (distributed.hpp): track() wraps each model in DistributedDataParallel;
// the program trains on loop.shard(global_batch); log() averages the terms over the ranks; rank 0
// alone prints, logs, writes samples, checkpoints and weights; next() agrees with all ranks on
// stopping (Ctrl-C on any rank, --iters) and on elapsed_s(), so time limits stop every rank at
// the same step. All ranks read a resumed checkpoint (one file system). Since every rank draws the
// whole global batch, a run may resume with another N (its batch must divide by it).
#include <crisp/nn/module.hpp>
#include <crisp/train/progress.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoints.hpp"
#include "train_options.hpp"
#include "distributed.hpp"
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
    device_ = parse_device(opt_.device, program_);
  }

  // Adds a model with its optimiser (and scheduler) to the checkpoints; call before begin().
  template <class Model, class T>
  void track(const std::string& name, Model& model, optim::OptimizerT<T>& optimizer,
             optim::LRScheduler* scheduler = nullptr) {
    CRISP_CHECK(!begun_, ValueError, program_, "TrainLoop::track('", name, "') must come before begin()");
    // The model trains on --device: moved in place, so the optimiser (built on its parameters)
    // and the checkpoints see the device tensors; optimiser state is made beside them.
    io::detail::module_ref(model).to(device_);
    ckpt_.track(name, model, optimizer, scheduler);
#if defined(CRISP_WITH_MPI)
    if (dist().active()) {
      auto& module = io::detail::module_ref(model);
      auto ddp = std::make_shared<distributed::DistributedDataParallelT<T>>(
          std::static_pointer_cast<nn::ModuleT<T>>(module.shared_from_this()), dist().group());
      step_hooks_.push_back([ddp] { ddp->pre_forward(); });
      ddps_.push_back(ddp);
    }
#endif
  }

  // This rank's rows of the step's global batch (everything, alone), on --device: the one
  // host-to-device copy of each batch tensor.
  template <class T>
  Tensor<T> shard(const Tensor<T>& global_batch) const {
    return dist().shard(global_batch).to(device_);
  }

  // Creates OUT, loads the checkpoint when resuming, opens the log and the progress bar and
  // installs the Ctrl-C handler. Returns the first step to run.
  int64_t begin() {
    namespace fs = std::filesystem;
    CRISP_CHECK(!begun_, ValueError, program_, "TrainLoop::begin() called twice");
    begun_ = true;
    const bool main = dist().is_main();
    if (main) fs::create_directories(opt_.out);
    std::string from = opt_.resume_from;
    if (from.empty() && opt_.resume) {
      const auto l = ckpt_.latest();
      CRISP_CHECK(l.has_value(), IoError, program_, "--resume: no checkpoint to continue from in '", ckpt_.dir(),
                  "' (no 'latest' file); start without --resume, or pass --resume-from FOLDER");
      from = *l;
    }
    if (!from.empty()) {
      const io::CheckpointInfo info = ckpt_.load(from, &gen_);  // every rank reads rank 0's files
      step_ = start_ = info.step;
      auto it = info.metadata.find("elapsed_s");
      if (it != info.metadata.end()) elapsed_before_ = std::stod(it->second);
      CRISP_CHECK(dist().max(static_cast<double>(step_)) == static_cast<double>(step_), IoError, program_,
                  "--resume: the ranks read checkpoints of different steps from '", from,
                  "' (each rank must see rank 0's files: one shared file system)");
      std::cout << program_ << ": resumed from " << from << " at step " << step_ << "\n";
      auto ws = info.metadata.find("world_size");
      const std::string was = ws == info.metadata.end() ? "1" : ws->second;
      if (was != std::to_string(dist().world_size()))
        std::cout << program_ << ": note: the checkpoint was written by a job of " << was << " rank(s), this one has "
                  << dist().world_size() << "; every rank draws the whole global batch of --batch-size "
                  << opt_.batch_size << ", so the run continues as it would have\n";
    } else if (ckpt_.latest()) {
      std::cout << program_ << ": note: starting afresh in '" << opt_.out
                << "', which holds an earlier run (its checkpoints are replaced as this one saves; --resume "
                   "continues it instead)\n";
    }
    last_saved_ = from.empty() ? -1 : step_;
    if (main) log_ = std::make_unique<CsvLog>((fs::path(opt_.out) / "log.csv").string(), terms_, from.empty() ? -1 : step_);
    sums_.assign(terms_.size(), 0.0);
    guard_.emplace(program_);
    clear_interrupt();
    t0_ = Clock::now();
    const int64_t todo = std::max<int64_t>(0, opt_.iters - step_);
    if (main) bar_.emplace(todo, train::ProgressOptions{program_, "step"});
    return step_;
  }

  // Closes the step that ran (log, checkpoint cadence) and says whether another one should run:
  // false once --iters steps are done or after Ctrl-C (a checkpoint has then been written).
  bool next() {
    CRISP_CHECK(begun_, ValueError, program_, "TrainLoop::next() before begin()");
    if (in_step_) {
      in_step_ = false;
      ++step_;
      if (bar_) bar_->update();
      if (window_ >= opt_.log_every) flush_log();
      if (opt_.checkpoint_every > 0 && step_ % opt_.checkpoint_every == 0 && step_ < opt_.iters) save_checkpoint();
    }
    bool stop = interrupted();
    if (dist().active()) {  // every rank stops at the same step, and agrees on the time spent
      stop = dist().max(stop ? 1.0 : 0.0) > 0;
      shared_elapsed_ = dist().max(local_elapsed_s());
    }
    if (stop) {
      stopped_ = true;
      return false;
    }
    if (step_ >= opt_.iters) return false;
    for (auto& h : step_hooks_) h();  // DDP: rank 0's buffers, no unreduced gradients left over
    in_step_ = true;
    return true;
  }

  // The step being run (0-based) = steps completed before it.
  int64_t step() const { return step_; }
  int64_t start_step() const { return start_; }
  const TrainOptions& options() const { return opt_; }
  Device device() const { return device_; }

  // The run's Generator: seeded with --seed, saved in checkpoints and restored on resume.
  Generator& generator() { return gen_; }
  // A Generator that depends only on (--seed, step, stream): the same on a resumed run.
  Generator step_generator(uint64_t stream = 0) const {
    return Generator(data::sample_seed(opt_.seed, static_cast<uint64_t>(step_), stream));
  }

  // This step's loss terms, in the order of the constructor's names. A NaN or infinite value
  // throws crisp::ValueError naming the term and the step (training would only get worse).
  void log(std::vector<double> values) {
    CRISP_CHECK(values.size() == terms_.size(), ValueError, program_, "TrainLoop::log: expected ", terms_.size(),
                " values, got ", values.size());
    if (dist().active()) {  // the global batch's terms: the mean over the ranks
      values = dist().sum(std::move(values));
      for (double& v : values) v /= dist().world_size();
    }
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
    if (dist().is_main()) {
      std::vector<Tensor<float>> host;
      for (const auto& c : columns) host.push_back(c.to(Device::cpu()));
      save_sample_grid(p, host, max_rows, lo, hi);
    }
    return p;
  }

  // OUT/<name>.safetensors: the model's state_dict, for inference programs. Returns the path.
  template <class Model>
  std::string save_weights(const std::string& name, const Model& model,
                           const std::map<std::string, std::string>& metadata = {}) const {
    const std::string p = path(name + ".safetensors");
    if (dist().is_main()) io::save_safetensors(p, io::detail::module_ref(model).state_dict(), metadata);
    return p;
  }

  // OUT/<rel>
  std::string path(const std::string& rel) const { return (std::filesystem::path(opt_.out) / rel).string(); }
  // Under mpirun: the largest over the ranks, as of the last next() (the same on every rank).
  double elapsed_s() const { return dist().active() && shared_elapsed_ >= 0 ? shared_elapsed_ : local_elapsed_s(); }

  // Writes the last log row and a final checkpoint, ends the progress bar and prints where
  // things are. Returns the exit code: 0, or 130 when stopped by Ctrl-C.
  int finish() {
    CRISP_CHECK(begun_, ValueError, program_, "TrainLoop::finish() before begin()");
    if (window_ > 0) flush_log();
    if (step_ != last_saved_ && step_ > 0) save_checkpoint();
    if (bar_) bar_->finish();
    guard_.reset();
    dist().barrier();  // the checkpoint is complete before any rank moves on
    if (stopped_) {
      std::cout << program_ << ": stopped at step " << step_ << " of " << opt_.iters << "; checkpoint in "
                << ckpt_.dir() << " - continue with the same command plus --resume\n";
      return 130;
    }
    std::cout << program_ << ": " << step_ << " steps done (" << train::format_duration(elapsed_s())
              << "); log " << path("log.csv") << ", checkpoints " << ckpt_.dir() << "\n";
    return 0;
  }

 private:
  using Clock = std::chrono::steady_clock;
  double local_elapsed_s() const { return elapsed_before_ + std::chrono::duration<double>(Clock::now() - t0_).count(); }

  void flush_log() {
    std::vector<double> means(sums_.size());
    std::string postfix;
    char buf[64];
    for (size_t i = 0; i < sums_.size(); ++i) {
      means[i] = sums_[i] / static_cast<double>(window_);
      std::snprintf(buf, sizeof buf, "%s%s %.4g", i ? " " : "", terms_[i].c_str(), means[i]);
      postfix += buf;
    }
    if (log_) log_->write(step_, elapsed_s(), means);
    if (bar_) bar_->set_postfix(postfix);
    sums_.assign(sums_.size(), 0.0);
    window_ = 0;
  }

  void save_checkpoint() {
    char buf[32];
    last_saved_ = step_;
    if (!dist().is_main()) return;
    std::snprintf(buf, sizeof buf, "%.3f", elapsed_s());
    ckpt_.save(step_, &gen_,
               {{"program", program_}, {"elapsed_s", buf}, {"world_size", std::to_string(dist().world_size())}});
  }

  Device device_ = Device::cpu();
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
  double elapsed_before_ = 0, shared_elapsed_ = -1;
  std::vector<std::function<void()>> step_hooks_;
  std::vector<std::shared_ptr<void>> ddps_;  // the tracked models' DistributedDataParallel wrappers
  Clock::time_point t0_ = Clock::now();
  bool begun_ = false, in_step_ = false, stopped_ = false;
};

}  // namespace crisp::examples
