// Helpers shared by the semantic-deblurring models' tests (parser, deblurring net, DCGAN
// discriminator): parameter counts, sampled finite-difference gradient checks of a whole model
// (inputs and parameters at once), and the optional real data in ../shared/data.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "crisp/crisp.hpp"

#include "../golden_util.hpp"  // count_parameters

namespace crisp::test {

using NamedTensors = std::vector<std::pair<std::string, Tensor<double>>>;

// Compares autograd's gradient of sum_k <f()_k, r_k> (r_k fixed random) with central
// differences at about `samples` elements of every tensor in `wrt` (leaves: inputs that require
// grad, or parameters). Whole-model checks in double: sampling keeps them within the time budget.
template <class F>
void check_model_grads(F f, const NamedTensors& wrt, int64_t samples = 6, double eps = 1e-6) {
  std::vector<Tensor<double>> y = f();
  Generator gen(4321);
  std::vector<Tensor<double>> r;
  for (const auto& t : y) r.push_back(randn<double>(t.shape(), gen));
  auto project = [&](const std::vector<Tensor<double>>& ys) {
    double s = 0;
    for (size_t k = 0; k < ys.size(); ++k) s += (ys[k] * r[k]).sum().item();
    return s;
  };
  for (auto [n, t] : wrt) t.set_grad(Tensor<double>());
  Tensor<double> loss = (y[0] * r[0]).sum();
  for (size_t k = 1; k < y.size(); ++k) loss = loss + (y[k] * r[k]).sum();
  loss.backward();
  NoGradGuard no_grad;
  for (auto [name, t] : wrt) {
    INFO("gradient of " << name << " " << t.shape());
    REQUIRE(t.grad().defined());
    const std::vector<double> analytic = t.grad().to_vector();
    double* d = t.data();
    const int64_t step = std::max<int64_t>(1, t.numel() / samples);
    for (int64_t j = (step / 2) % t.numel(); j < t.numel(); j += step) {
      const double orig = d[j];
      d[j] = orig + eps;
      const double plus = project(f());
      d[j] = orig - eps;
      const double minus = project(f());
      d[j] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      INFO("element " << j);
      CHECK(analytic[size_t(j)] == Approx(numeric).epsilon(1e-4).margin(1e-6));
    }
  }
}

// The module's parameters, named, for check_model_grads.
template <class M>
NamedTensors named_params(const M& module) {
  NamedTensors v;
  for (const auto& [n, p] : module.named_parameters()) v.emplace_back(n, p);
  return v;
}

inline std::string shared_data(const std::string& rel) { return std::string(CRISP_SHARED_DIR) + "/data/" + rel; }

// True when ../shared/data/<rel> exists; otherwise WARNs a visible SKIPPED line (Catch2 v2 has no
// SKIP) and returns false.
inline bool have_shared(const std::string& rel) {
  if (std::filesystem::exists(shared_data(rel))) return true;
  WARN("SKIPPED: real test data " << shared_data(rel) << " is absent (only ../shared/data checkouts have it)");
  return false;
}

}  // namespace crisp::test
