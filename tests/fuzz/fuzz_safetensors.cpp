// libFuzzer harness for crisp::io::parse_safetensors: any exception other than crisp::Error, any
// crash or sanitizer report is a finding. Built with CRISP_FUZZ_REPLAY_MAIN it gets a main() that
// runs the harness over the files and directories named on the command line (no libFuzzer needed).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "crisp/io/safetensors.hpp"

namespace {
template <class T>
void parse_as(const uint8_t* data, size_t size) {
  try {
    auto c = crisp::io::parse_safetensors<T>(data, size, "fuzz-input");
    // Whatever was accepted must fit in the input: every element came from at least one byte.
    uint64_t elements = 0;
    for (const auto& [name, t] : c.tensors) elements += static_cast<uint64_t>(t.numel());
    if (elements > size) {
      std::fprintf(stderr, "parse_safetensors accepted %llu elements from %zu bytes\n",
                   static_cast<unsigned long long>(elements), size);
      std::abort();
    }
  } catch (const crisp::Error&) {
    // Rejected input: the expected outcome for most mutations.
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse_as<float>(data, size);
  parse_as<int64_t>(data, size);  // the conversions with range checks
  return 0;
}

#ifdef CRISP_FUZZ_REPLAY_MAIN
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::cerr << "fuzz replay: no such file or directory: " << p << "\n";
      return 2;
    }
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::cout << "fuzz replay: ran " << files.size() << " inputs\n";
  return files.empty() ? 1 : 0;
}
#endif
