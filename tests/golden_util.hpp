// PyTorch-golden helpers shared by the parity tests (nn, loss, optim, models): one committed
// safetensors file (tensors and metadata, written by a tools/make_*_goldens.py script), the
// parity measure, and the state-dict key list the scripts record for each module.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(b[i])));
    if (!(err <= worst)) worst = err, at = i;  // a NaN counts as the worst
  }
  INFO("worst relative error " << worst << " at flat index " << at);
  CHECK(worst <= tol);
}

// "name:[shape];..." in PyTorch's state_dict order (per module: parameters, then buffers), the
// form the golden scripts store under "keys.*" metadata.
template <class M>
std::string state_dict_keys(const M& module) {
  std::ostringstream os;
  bool first = true;
  for (const auto& [prefix, m] : module.named_modules()) {
    auto emit = [&](const auto& tensors) {
      for (const auto& [name, t] : tensors) {
        os << (first ? "" : ";") << (prefix.empty() ? name : prefix + "." + name) << ":" << t.shape();
        first = false;
      }
    };
    emit(m->named_parameters(false));
    auto buffers = m->named_buffers(false);
    std::vector<std::pair<std::string, std::decay_t<decltype(buffers.values().front())>>> saved;
    for (const auto& [name, t] : buffers)
      if (m->is_persistent_buffer(name)) saved.emplace_back(name, t);
    emit(saved);
  }
  return os.str();
}

template <class M>
int64_t count_parameters(const M& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace crisp::test
