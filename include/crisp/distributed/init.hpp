// init_process_group(): joins this process to the job its launcher started (mpirun, or any MPI
// launcher) and returns the job's ProcessGroup - MPI for CPU tensors and, in a CUDA + NCCL build
// when asked for, NCCL on the local rank's GPU. A plain run (no launcher) is a group of one.
#pragma once

#if !defined(CRISP_WITH_MPI)
#error "crisp/distributed/init.hpp needs a build with MPI (link crisp::distributed)"
#endif

#include <mpi.h>

#include <chrono>
#include <memory>
#include <string>

#include "crisp/distributed/launch_env.hpp"
#include "crisp/distributed/mpi_backend.hpp"
#include "crisp/distributed/process_group.hpp"
#if defined(CRISP_WITH_NCCL)
#include "crisp/distributed/nccl_backend.hpp"
#endif

namespace crisp::distributed {

struct InitOptions {
  std::chrono::milliseconds timeout = std::chrono::minutes(5);  // --dist-timeout
  bool cuda = false;  // also create the NCCL backend, on GPU local_rank (CUDA + NCCL builds)
};

namespace detail {
struct Runtime {
  bool owns_mpi = false;
  std::shared_ptr<MpiBackend> mpi;
  std::shared_ptr<Backend> nccl;
  std::shared_ptr<ProcessGroup> group;
  ~Runtime() { shutdown(); }
  void shutdown() {
    group.reset();
    nccl.reset();
    mpi.reset();
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (owns_mpi && initialized && !finalized) MPI_Finalize();
    owns_mpi = false;
  }
};
inline Runtime& runtime() {
  static Runtime r;
  return r;
}
}  // namespace detail

// The job's group, created on the first call (later calls return it; options must then agree).
inline std::shared_ptr<ProcessGroup> init_process_group(const InitOptions& opt = {}) {
  auto& rt = detail::runtime();
  if (rt.group) {
    CRISP_CHECK(!opt.cuda || rt.nccl, DistributedError, "init_process_group",
                "the process group exists without a NCCL backend; ask for cuda on the first call");
    return rt.group;
  }
  CRISP_CHECK(opt.timeout.count() > 0, ValueError, "init_process_group", "expected a positive timeout, got ",
              opt.timeout.count(), " ms");
  const LaunchEnv env = launch_env();
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    CRISP_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    rt.owns_mpi = true;
  }
  rt.mpi = std::make_shared<MpiBackend>(opt.timeout);
  CRISP_CHECK(env.source == "none" || (env.rank == rt.mpi->rank() && env.world_size == rt.mpi->size()),
              DistributedError, "init_process_group", "the launcher's ", env.source, " variables say rank ", env.rank,
              " of ", env.world_size, " but MPI sees rank ", rt.mpi->rank(), " of ", rt.mpi->size(),
              " (start the job with mpirun -np N, not with RANK / WORLD_SIZE alone)");
  // Local rank: the rank among processes sharing this machine's memory.
  MPI_Comm node = MPI_COMM_NULL;
  CRISP_MPI_CHECK(MPI_Comm_split_type(rt.mpi->comm(), MPI_COMM_TYPE_SHARED, rt.mpi->rank(), MPI_INFO_NULL, &node),
                  "MPI_Comm_split_type");
  int local = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  if (opt.cuda) {
#if defined(CRISP_WITH_NCCL)
    rt.nccl = std::make_shared<NcclBackend>(*rt.mpi, local);
#else
    throw DistributedError(
        "init_process_group: CUDA tensors need the NCCL backend, but this build has none (configure with "
        "-DCRISP_WITH_CUDA=ON on a machine with NCCL)");
#endif
  }
  rt.group = std::make_shared<ProcessGroup>(rt.mpi->rank(), rt.mpi->size(), local, rt.mpi, rt.nccl);
  return rt.group;
}

// True once init_process_group has run (and finalize has not).
inline bool is_initialized() { return detail::runtime().group != nullptr; }

// Releases the group and finalises MPI (also done at exit). Every rank must call it.
inline void finalize() { detail::runtime().shutdown(); }

// Ends every rank of the job at once, after printing `why` with this rank's number: for an error
// on one rank that the others, waiting in a collective, would otherwise only see at the timeout.
[[noreturn]] inline void abort_job(const std::string& why, int code = 1) {
  auto& rt = detail::runtime();
  if (rt.mpi) rt.mpi->abort_job(why, code);
  int initialized = 0;
  MPI_Initialized(&initialized);
  std::fprintf(stderr, "crisp::distributed: %s; ending the job\n", why.c_str());
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace crisp::distributed
