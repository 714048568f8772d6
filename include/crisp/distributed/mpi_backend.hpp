// The MPI backend of a ProcessGroup: CPU buffers, nonblocking MPI collectives on a private
// duplicate of MPI_COMM_WORLD, and the fault rule of crisp::distributed - a collective is polled
// (MPI_Test) against a deadline, and one that misses it ends the whole job through MPI_Abort with
// a message naming this rank, the collective and its sequence number, instead of hanging.
#pragma once

#if !defined(CRISP_WITH_MPI)
#error "crisp/distributed/mpi_backend.hpp needs a build with MPI (link crisp::distributed)"
#endif

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "crisp/distributed/process_group.hpp"

namespace crisp::distributed {

namespace detail {
inline MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::F32: return MPI_FLOAT;
    case DType::F64: return MPI_DOUBLE;
    case DType::I64: return MPI_INT64_T;
    default: return MPI_BYTE;
  }
}
inline MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::Sum ? MPI_SUM : (op == ReduceOp::Max ? MPI_MAX : MPI_MIN); }

inline std::string mpi_error_string(int code) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, buf, &len);
  return std::string(buf, static_cast<size_t>(len));
}
}  // namespace detail

#define CRISP_MPI_CHECK(call, what)                                                                   \
  do {                                                                                                \
    const int crisp_mpi_rc_ = (call);                                                                 \
    if (crisp_mpi_rc_ != MPI_SUCCESS)                                                                 \
      throw ::crisp::distributed::DistributedError(std::string("crisp::distributed: ") + (what) +     \
                                                   " failed: " + detail::mpi_error_string(crisp_mpi_rc_)); \
  } while (0)

class MpiBackend final : public Backend {
 public:
  // Takes MPI as already initialised (see init_process_group); duplicates MPI_COMM_WORLD so that
  // crisp's collectives never match a user's own messages.
  explicit MpiBackend(std::chrono::milliseconds timeout) : timeout_(timeout) {
    CRISP_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiBackend() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  MpiBackend(const MpiBackend&) = delete;
  MpiBackend& operator=(const MpiBackend&) = delete;

  const char* name() const override { return "MPI"; }
  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  std::shared_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    auto w = start("all_reduce", count, dtype);
    CRISP_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), detail::mpi_type(dtype),
                                   detail::mpi_op(op), comm_, &w->req),
                    "MPI_Iallreduce");
    return w;
  }
  std::shared_ptr<Work> broadcast(void* data, int64_t count, DType dtype, int root) override {
    auto w = start("broadcast", count, dtype);
    CRISP_MPI_CHECK(MPI_Ibcast(data, static_cast<int>(count), detail::mpi_type(dtype), root, comm_, &w->req),
                    "MPI_Ibcast");
    return w;
  }
  std::shared_ptr<Work> all_gather(const void* in, void* out, int64_t count, DType dtype) override {
    auto w = start("all_gather", count, dtype);
    CRISP_MPI_CHECK(MPI_Iallgather(in, static_cast<int>(count), detail::mpi_type(dtype), out, static_cast<int>(count),
                                   detail::mpi_type(dtype), comm_, &w->req),
                    "MPI_Iallgather");
    return w;
  }
  void barrier() override {
    auto w = start("barrier", 0, DType::U8);
    CRISP_MPI_CHECK(MPI_Ibarrier(comm_, &w->req), "MPI_Ibarrier");
    w->wait();
  }

  // Ends every rank of the job now: stderr names this rank and why. Never returns.
  [[noreturn]] void abort_job(const std::string& why, int code = 3) const {
    std::fprintf(stderr, "crisp::distributed: rank %d of %d: %s; ending the job (MPI_Abort)\n", rank_, size_,
                 why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();
  }

 private:
  struct MpiWork final : Work {
    MpiWork(const MpiBackend* b, const char* what, uint64_t seq, int64_t bytes)
        : backend(b), what(what), seq(seq), bytes(bytes) {}
    ~MpiWork() override {
      // A collective must complete before its buffer goes; an abandoned one would corrupt memory.
      if (!done) try {
          wait();
        } catch (...) {  // a failed MPI_Test in a destructor: nothing left to do but end the job
          backend->abort_job(std::string(what) + " failed while its result was being discarded");
        }
    }
    bool test() override {
      if (done) return true;
      int flag = 0;
      CRISP_MPI_CHECK(MPI_Test(&req, &flag, MPI_STATUS_IGNORE), std::string("MPI_Test of ") + what);
      done = flag != 0;
      return done;
    }
    void wait() override {
      using Clock = std::chrono::steady_clock;
      const auto t0 = Clock::now();
      // Spin first (small messages finish in microseconds), then poll with growing naps so that a
      // long wait leaves the core to the other ranks sharing it.
      for (int i = 0; !test(); ++i) {
        if (i > 2000) std::this_thread::sleep_for(std::chrono::microseconds(i > 20000 ? 1000 : 50));
        if (Clock::now() - t0 > backend->timeout_) {
          char buf[256];
          std::snprintf(buf, sizeof buf,
                        "%s #%llu (%lld bytes) did not complete within %.1f s (--dist-timeout): another rank died, "
                        "hangs, or called a different collective",
                        what, static_cast<unsigned long long>(seq), static_cast<long long>(bytes),
                        std::chrono::duration<double>(backend->timeout_).count());
          backend->abort_job(buf);
        }
      }
    }
    const MpiBackend* backend;
    const char* what;
    uint64_t seq;
    int64_t bytes;
    MPI_Request req = MPI_REQUEST_NULL;
    bool done = false;
  };

  std::shared_ptr<MpiWork> start(const char* what, int64_t count, DType dtype) {
    CRISP_CHECK(count >= 0 && count <= std::numeric_limits<int>::max(), DistributedError, what,
                "expected at most ", std::numeric_limits<int>::max(), " elements in one MPI collective, got ", count);
    return std::make_shared<MpiWork>(this, what, ++seq_, count * dtype_size(dtype));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::chrono::milliseconds timeout_;
  uint64_t seq_ = 0;
};

}  // namespace crisp::distributed
