// The NCCL backend of a ProcessGroup: CUDA buffers, one GPU per rank (the local rank's), a
// communicator whose unique id rank 0 broadcasts over MPI. Collectives run on a stream of their
// own that first waits for crisp's current stream; Work::wait polls their completion event
// against the group's timeout and, past it, aborts the communicator and ends the job.
#pragma once

#if !defined(CRISP_WITH_NCCL) || !defined(CRISP_WITH_CUDA)
#error "crisp/distributed/nccl_backend.hpp needs a build with CUDA and NCCL (link crisp::distributed)"
#endif

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "crisp/backend/cuda/runtime.hpp"
#include "crisp/distributed/mpi_backend.hpp"

namespace crisp::distributed {

#define CRISP_NCCL_CHECK(call, what)                                                                        \
  do {                                                                                                      \
    const ncclResult_t crisp_nccl_rc_ = (call);                                                             \
    if (crisp_nccl_rc_ != ncclSuccess)                                                                      \
      throw ::crisp::distributed::DistributedError(std::string("crisp::distributed: ") + (what) +           \
                                                   " failed: " + ncclGetErrorString(crisp_nccl_rc_));       \
  } while (0)

class NcclBackend final : public Backend {
 public:
  // Collective over all ranks of `mpi` (used once, to share the unique id); `device` is this
  // rank's GPU.
  NcclBackend(MpiBackend& mpi, int device) : mpi_(&mpi), device_(device) {
    crisp::cuda::check_device_index(device, "NcclBackend");
    ncclUniqueId id;
    if (mpi.rank() == 0) CRISP_NCCL_CHECK(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi.broadcast(&id, sizeof id, DType::U8, 0)->wait();
    crisp::cuda::DeviceGuard g(device_);
    CRISP_NCCL_CHECK(ncclCommInitRank(&comm_, mpi.size(), id, mpi.rank()), "ncclCommInitRank");
    CRISP_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~NcclBackend() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  NcclBackend(const NcclBackend&) = delete;
  NcclBackend& operator=(const NcclBackend&) = delete;

  const char* name() const override { return "NCCL"; }
  int device() const { return device_; }

  std::shared_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    return launch("all_reduce", count * dtype_size(dtype), [&] {
      return ncclAllReduce(data, data, static_cast<size_t>(count), nccl_type(dtype), nccl_op(op), comm_, stream_);
    });
  }
  std::shared_ptr<Work> broadcast(void* data, int64_t count, DType dtype, int root) override {
    return launch("broadcast", count * dtype_size(dtype), [&] {
      return ncclBroadcast(data, data, static_cast<size_t>(count), nccl_type(dtype), root, comm_, stream_);
    });
  }
  std::shared_ptr<Work> all_gather(const void* in, void* out, int64_t count, DType dtype) override {
    return launch("all_gather", count * dtype_size(dtype), [&] {
      return ncclAllGather(in, out, static_cast<size_t>(count), nccl_type(dtype), comm_, stream_);
    });
  }
  void barrier() override { mpi_->barrier(); }

 private:
  static ncclDataType_t nccl_type(DType t) {
    switch (t) {
      case DType::F32: return ncclFloat32;
      case DType::F64: return ncclFloat64;
      case DType::I64: return ncclInt64;
      default: return ncclUint8;
    }
  }
  static ncclRedOp_t nccl_op(ReduceOp op) { return op == ReduceOp::Sum ? ncclSum : (op == ReduceOp::Max ? ncclMax : ncclMin); }

  struct NcclWork final : Work {
    NcclBackend* backend = nullptr;
    const char* what = "";
    uint64_t seq = 0;
    int64_t bytes = 0;
    cudaEvent_t done_event = nullptr;
    bool done = false;
    ~NcclWork() override {
      if (!done) try {
          wait();
        } catch (...) {
          backend->mpi_->abort_job(std::string(what) + " failed while its result was being discarded");
        }
      if (done_event) cudaEventDestroy(done_event);
    }
    bool test() override {
      if (done) return true;
      const cudaError_t e = cudaEventQuery(done_event);
      if (e == cudaErrorNotReady) return false;
      CRISP_CUDA_CHECK(e);
      done = true;
      return true;
    }
    void wait() override {
      using Clock = std::chrono::steady_clock;
      const auto t0 = Clock::now();
      for (int i = 0; !test(); ++i) {
        if (i > 2000) std::this_thread::sleep_for(std::chrono::microseconds(50));
        if (Clock::now() - t0 > backend->mpi_->timeout()) {
          ncclCommAbort(backend->comm_);
          backend->comm_ = nullptr;
          backend->mpi_->abort_job(std::string("NCCL ") + what + " #" + std::to_string(seq) + " (" +
                                   std::to_string(bytes) + " bytes) did not complete within the --dist-timeout: "
                                   "another rank died, hangs, or called a different collective");
        }
      }
    }
  };

  template <class F>
  std::shared_ptr<Work> launch(const char* what, int64_t bytes, F&& enqueue) {
    crisp::cuda::DeviceGuard g(device_);
    auto w = std::make_shared<NcclWork>();
    w->backend = this;
    w->what = what;
    w->seq = ++seq_;
    w->bytes = bytes;
    // The collective must see what crisp's stream has computed so far.
    cudaEvent_t ready = nullptr;
    CRISP_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    CRISP_CUDA_CHECK(cudaEventRecord(ready, crisp::cuda::current_stream()));
    CRISP_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready, 0));
    cudaEventDestroy(ready);
    CRISP_NCCL_CHECK(enqueue(), std::string("nccl ") + what);
    CRISP_CUDA_CHECK(cudaEventCreateWithFlags(&w->done_event, cudaEventDisableTiming));
    CRISP_CUDA_CHECK(cudaEventRecord(w->done_event, stream_));
    return w;
  }

  MpiBackend* mpi_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  uint64_t seq_ = 0;
};

}  // namespace crisp::distributed
