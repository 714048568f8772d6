// The training programs under mpirun: the job's ranks as TrainLoop and the programs see them.
// Built with crisp::distributed (CMake found MPI) a program joins the job its launcher started;
// built without, it runs alone and refuses, clearly, a launch with several ranks.
#pragma once

// What data parallelism means for the programs (docs/distributed.md):
// - --batch-size is the GLOBAL batch: every rank draws the step's whole batch from
//   step_generator() (cheap next to the network) and trains on its rows [r*B/N, (r+1)*B/N)
//   (shard()), so N ranks follow the single-process run up to rounding (except BatchNorm, whose
//   batch statistics are per rank, as in PyTorch);
// - rank 0 alone prints, logs, writes samples, checkpoints and weights; the other ranks' stdout
//   is silenced (stderr stays: errors name their rank);
// - every tracked model is wrapped in DistributedDataParallel (gradients averaged in backward,
//   buffers from rank 0 at each step);
// - an error on one rank ends the whole job at once (MPI_Abort), not at the --dist-timeout.
#include <crisp/distributed/launch_env.hpp>
#include <crisp/tensor/tensor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#if defined(CRISP_WITH_MPI)
#include <crisp/distributed/distributed.hpp>
#endif

namespace crisp::examples {

class DistContext {
 public:
  int rank() const { return rank_; }
  int world_size() const { return world_; }
  int local_rank() const { return local_; }
  bool is_main() const { return rank_ == 0; }
  bool active() const { return world_ > 1; }

  // Joins the job (once; later calls return at once). timeout_s: --dist-timeout.
  // cuda: the job trains on GPUs (NCCL backend, GPU local_rank).
  void init(const std::string& program, double timeout_s, bool cuda = false) {
    if (initialized_) return;
    initialized_ = true;
    const distributed::LaunchEnv env = distributed::launch_env();
#if defined(CRISP_WITH_MPI)
    if (env.world_size > 1) {
      CRISP_CHECK(timeout_s > 0, ValueError, program, "expected --dist-timeout > 0 seconds, got ", timeout_s);
      distributed::InitOptions o;
      o.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
      o.cuda = cuda;
      group_ = distributed::init_process_group(o);
      rank_ = group_->rank();
      world_ = group_->world_size();
      local_ = group_->local_rank();
      if (!is_main()) std::cout.rdbuf(nullptr);  // rank 0 alone speaks
    }
#else
    CRISP_CHECK(env.world_size == 1, ValueError, program, "launched as rank ", env.rank, " of ", env.world_size,
                " (", env.source, " variables), but this program was built without MPI; rebuild with "
                "libopenmpi-dev installed (CRISP_WITH_MPI) or run it alone");
    (void)timeout_s;
    (void)cuda;
#endif
  }

  // The rows of a global batch [B, ...] that this rank trains on.
  template <class T>
  Tensor<T> shard(const Tensor<T>& global) const {
    if (world_ == 1 || !global.defined()) return global;
    const int64_t b = global.size(0);
    return global.slice(0, b * rank_ / world_, b * (rank_ + 1) / world_).contiguous();
  }
  int64_t shard_begin(int64_t n) const { return n * rank_ / world_; }
  int64_t shard_end(int64_t n) const { return n * (rank_ + 1) / world_; }

  // Sum / max over the ranks (held-out metrics, loss terms, stop flags); identity alone.
  std::vector<double> sum(std::vector<double> v) const {
#if defined(CRISP_WITH_MPI)
    if (active() && !v.empty()) {
      Tensor<double> t = Tensor<double>::empty(Shape{static_cast<int64_t>(v.size())});
      std::copy(v.begin(), v.end(), t.data_ptr());
      group_->all_reduce(t);
      std::copy(t.data_ptr(), t.data_ptr() + t.numel(), v.begin());
    }
#endif
    return v;
  }
  double sum(double v) const { return sum(std::vector<double>{v})[0]; }
  double max(double v) const {
#if defined(CRISP_WITH_MPI)
    if (active()) return group_->all_reduce_value(v, distributed::ReduceOp::Max);
#endif
    return v;
  }
  void barrier() const {
#if defined(CRISP_WITH_MPI)
    if (active()) group_->barrier();
#endif
  }
  // Ends every rank now, after printing the error with this rank's number.
  [[noreturn]] void abort_job(const std::string& why) const {
#if defined(CRISP_WITH_MPI)
    distributed::abort_job(why, 1);
#else
    std::cerr << why << "\n";
    std::exit(1);
#endif
  }

#if defined(CRISP_WITH_MPI)
  const std::shared_ptr<distributed::ProcessGroup>& group() const { return group_; }
#endif

 private:
  bool initialized_ = false;
  int rank_ = 0, world_ = 1, local_ = 0;
#if defined(CRISP_WITH_MPI)
  std::shared_ptr<distributed::ProcessGroup> group_;
#endif
};

// The process's one context (a job has one set of ranks).
inline DistContext& dist() {
  static DistContext d;
  return d;
}

}  // namespace crisp::examples
