// Helpers shared by the data and metrics tests: a per-process scratch directory, the optional real
// data in ../shared/data (tests that need it skip with a warning when it is absent), raw files.
#pragma once

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace crisp::test {

// A fresh directory under the system temp dir, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path p;
    Dir() {
      p = std::filesystem::temp_directory_path() / ("crisp_data_test_" + std::to_string(::getpid()));
      std::filesystem::remove_all(p);
      std::filesystem::create_directories(p);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  };
  static Dir d;
  return d.p;
}
inline std::string scratch(const std::string& name) { return (scratch_dir() / name).string(); }

inline std::string shared_data(const std::string& rel) { return std::string(CRISP_SHARED_DIR) + "/data/" + rel; }

// True when ../shared/data/<rel> exists; otherwise WARNs (Catch2 v2 has no SKIP) and returns false.
inline bool have_shared(const std::string& rel) {
  if (std::filesystem::exists(shared_data(rel))) return true;
  WARN("SKIPPED: real test data " << shared_data(rel) << " is absent (only ../shared/data checkouts have it)");
  return false;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace crisp::test
