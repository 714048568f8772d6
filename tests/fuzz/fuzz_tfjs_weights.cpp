// libFuzzer harness for crisp::io::parse_tfjs_manifest + decode_tfjs_weights: any exception other
// than crisp::Error, any crash or sanitizer report is a finding. Input layout: the manifest's JSON
// text, a NUL byte, then the shard bytes; the shards are the pieces between "SHRD" markers, given
// to the manifest's shard paths in order of first appearance (too few pieces = missing shards).
// Built with CRISP_FUZZ_REPLAY_MAIN it gets a main() that replays files and directories.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "crisp/io/tfjs_weights.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t text_len = nul ? static_cast<size_t>(nul - data) : size;
  try {
    const auto manifest = crisp::io::parse_tfjs_manifest(reinterpret_cast<const char*>(data), text_len, "fuzz-input");
    std::vector<std::vector<uint8_t>> pieces;
    if (nul) {
      const uint8_t* p = nul + 1;
      const uint8_t* end = data + size;
      while (true) {
        const uint8_t* m = p;
        while (m + 4 <= end && std::memcmp(m, "SHRD", 4) != 0) ++m;
        if (m + 4 > end) {
          pieces.emplace_back(p, end);
          break;
        }
        pieces.emplace_back(p, m);
        p = m + 4;
      }
    }
    std::map<std::string, std::vector<uint8_t>> shards;
    size_t next = 0;
    uint64_t shard_bytes = 0;
    for (const auto& paths : manifest.group_paths)
      for (const auto& path : paths)
        if (!shards.count(path) && next < pieces.size()) {
          shard_bytes += pieces[next].size();
          shards.emplace(path, std::move(pieces[next++]));
        }
    const auto weights = crisp::io::decode_tfjs_weights(manifest, shards, "fuzz-input");
    // Whatever was accepted must fit in the shards: every element came from at least one byte
    // (a path listed twice counts its bytes twice).
    uint64_t elements = 0;
    for (const auto& [name, t] : weights) elements += static_cast<uint64_t>(t.numel());
    uint64_t listed_bytes = 0;
    for (const auto& paths : manifest.group_paths)
      for (const auto& path : paths) listed_bytes += shards.at(path).size();
    if (elements > listed_bytes) {
      std::fprintf(stderr, "decode_tfjs_weights accepted %llu elements from %llu bytes\n",
                   static_cast<unsigned long long>(elements), static_cast<unsigned long long>(listed_bytes));
      std::abort();
    }
    for (const auto& [name, t] : weights) {
      const int64_t d = t.dim();
      if (d == 4) crisp::io::tfjs_to_crisp_layout(t, crisp::io::TfjsLayout::ConvHWIO);
      if (d == 2) crisp::io::tfjs_to_crisp_layout(t, crisp::io::TfjsLayout::Dense);
    }
  } catch (const crisp::Error&) {
    // Rejected input: the expected outcome for most mutations.
  }
  return 0;
}

#ifdef CRISP_FUZZ_REPLAY_MAIN
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

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
