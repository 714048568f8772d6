// Where this process sits in a multi-process job, as the launcher says it: mpirun (Open MPI's
// OMPI_COMM_WORLD_*), other MPI launchers (PMI_RANK / PMI_SIZE) or torchrun-style RANK /
// WORLD_SIZE / LOCAL_RANK. No MPI here: programs built without crisp::distributed use it to
// refuse, clearly, a launch with several ranks that they cannot take part in.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "crisp/tensor/error.hpp"

namespace crisp::distributed {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string source = "none";  // which variables said so: "OMPI", "PMI", "RANK" or "none"
};

namespace detail {
inline std::optional<int> env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  CRISP_CHECK(end != nullptr && *end == '\0' && x >= 0 && x < (1L << 24), ValueError, "crisp::distributed",
              "expected the environment variable ", name, " to hold a rank or size (a non-negative integer), got '",
              v, "'");
  return static_cast<int>(x);
}
}  // namespace detail

// Reads the launcher's variables; a single process (rank 0 of 1) when there are none.
inline LaunchEnv launch_env() {
  using detail::env_int;
  LaunchEnv e;
  if (auto r = env_int("OMPI_COMM_WORLD_RANK")) {
    e.source = "OMPI";
    e.rank = *r;
    e.world_size = env_int("OMPI_COMM_WORLD_SIZE").value_or(1);
    e.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK").value_or(0);
  } else if (auto r = env_int("PMI_RANK")) {
    e.source = "PMI";
    e.rank = *r;
    e.world_size = env_int("PMI_SIZE").value_or(1);
    e.local_rank = env_int("MPI_LOCALRANKID").value_or(env_int("LOCAL_RANK").value_or(0));
  } else if (auto r = env_int("RANK")) {
    e.source = "RANK";
    e.rank = *r;
    e.world_size = env_int("WORLD_SIZE").value_or(1);
    e.local_rank = env_int("LOCAL_RANK").value_or(0);
  }
  CRISP_CHECK(e.world_size >= 1 && e.rank < e.world_size, ValueError, "crisp::distributed",
              "expected the launcher's rank < world size, got rank ", e.rank, " of ", e.world_size, " (from ",
              e.source, " variables)");
  return e;
}

}  // namespace crisp::distributed
