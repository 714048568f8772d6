// PyTorch-golden helpers shared by the model tests: one committed safetensors file (tensors and
// metadata, written by tools/make_*_goldens.py) and the parity measure the models are held to.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <crisp/io/safetensors.hpp>

namespace crisp::test {

using TensorMap = std::map<std::string, Tensor<float>>;

// A golden file under tests/data/golden/, read once on first use.
class GoldenFile {
 public:
  explicit GoldenFile(const std::string& name) : path_(std::string(CRISP_TEST_DATA_DIR) + "/golden/" + name) {}

  const TensorMap& tensors() const {
    if (!loaded_) {
      tensors_ = io::load_safetensors(path_);
      metadata_ = io::load_safetensors_metadata(path_);
      loaded_ = true;
    }
    return tensors_;
  }
  const Tensor<float>& get(const std::string& key) const {
    INFO("golden key " << key);
    REQUIRE(tensors().count(key) == 1);
    return tensors().at(key);
  }
  const std::string& meta(const std::string& key) const {
    tensors();
    INFO("metadata key " << key);
    REQUIRE(metadata_.count(key) == 1);
    return metadata_.at(key);
  }
  // The tensors under "prefix.", with the prefix stripped: one case's state dict.
  TensorMap sub(const std::string& prefix) const {
    TensorMap m;
    for (const auto& [k, v] : tensors())
      if (k.rfind(prefix + ".", 0) == 0) m.emplace(k.substr(prefix.size() + 1), v);
    return m;
  }

 private:
  std::string path_;
  mutable bool loaded_ = false;
  mutable TensorMap tensors_;
  mutable std::map<std::string, std::string> metadata_;
};

// Parity measure: max |got - want| / (1 + |want|) (absolute for |want| <= 1, relative above).
inline void check_close(const Tensor<float>& got, const Tensor<float>& want, const std::string& what,
                        double tol = 1e-4) {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == want.shape());
  const auto a = got.to_vector(), b = want.to_vector();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i]))));
  CHECK(worst <= tol);
}

}  // namespace crisp::test
