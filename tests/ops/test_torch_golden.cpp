// Every op against PyTorch: tools/make_op_goldens.py stores inputs, outputs, a cotangent r and
// the gradients of sum(out * r) as PyTorch computes them; here crisp recomputes each case.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <set>

#include "crisp/crisp.hpp"

using namespace crisp;
using TF = Tensor<float>;
using Fn = std::function<TF(const std::vector<TF>&)>;

namespace {

TF as_float(const Tensor<int64_t>& t) { return cast<float>(t); }

const std::map<std::string, Fn>& cases() {
  static const std::map<std::string, Fn> table = {
      {"add_broadcast", [](auto& v) { return v[0] + v[1]; }},
      {"sub_broadcast", [](auto& v) { return v[0] - v[1]; }},
      {"mul_broadcast", [](auto& v) { return v[0] * v[1]; }},
      {"div", [](auto& v) { return v[0] / v[1]; }},
      {"div_broadcast", [](auto& v) { return v[0] / v[1]; }},
      {"scalar_ops", [](auto& v) { return -v[0] * 2.5f + 1.0f - v[0] / 4.0f + 3.0f / (v[0] * v[0] + 1.0f); }},
      {"maximum_minimum", [](auto& v) { return maximum(v[0], v[1]) + 2.0f * minimum(v[0], v[1]); }},
      {"exp", [](auto& v) { return exp(v[0]); }},
      {"log", [](auto& v) { return log(v[0]); }},
      {"sqrt", [](auto& v) { return sqrt(v[0]); }},
      {"abs", [](auto& v) { return abs(v[0]); }},
      {"pow_scalar", [](auto& v) { return pow(v[0], 3.0f); }},
      {"pow_negative", [](auto& v) { return pow(v[0], -1.5f); }},
      {"pow_tensor", [](auto& v) { return pow(v[0], v[1]); }},
      {"clamp", [](auto& v) { return clamp<float>(v[0], -0.55f, 0.65f); }},
      {"clamp_min", [](auto& v) { return clamp<float>(v[0], -0.55f); }},
      {"relu", [](auto& v) { return relu(v[0]); }},
      {"leaky_relu", [](auto& v) { return leaky_relu(v[0], 0.2f); }},
      {"sigmoid", [](auto& v) { return sigmoid(v[0]); }},
      {"tanh", [](auto& v) { return tanh(v[0]); }},
      {"softmax_dim1", [](auto& v) { return softmax(v[0], 1); }},
      {"softmax_dim0", [](auto& v) { return softmax(v[0], 0); }},
      {"log_softmax_last", [](auto& v) { return log_softmax(v[0], -1); }},
      {"log_softmax_channels", [](auto& v) { return log_softmax(v[0], 1); }},
      {"sum_all", [](auto& v) { return sum(v[0]); }},
      {"sum_dims_keepdim", [](auto& v) { return sum(v[0], {0, 2}, true); }},
      {"sum_last", [](auto& v) { return sum(v[0], {-1}); }},
      {"mean_all", [](auto& v) { return mean(v[0]); }},
      {"mean_dim", [](auto& v) { return mean(v[0], {1}); }},
      {"max_dim", [](auto& v) { return max(v[0], 1).first; }},
      {"min_dim_keepdim", [](auto& v) { return min(v[0], 0, true).first; }},
      {"max_all", [](auto& v) { return max(v[0]); }},
      {"min_all", [](auto& v) { return min(v[0]); }},
      {"argmax_dim", [](auto& v) { return as_float(argmax(v[0], 1)); }},
      {"argmax_all", [](auto& v) { return as_float(argmax(v[0])); }},
      {"argmin_dim", [](auto& v) { return as_float(argmin(v[0], 0)); }},
      {"permute", [](auto& v) { return v[0].permute({2, 0, 1}); }},
      {"transpose_reshape", [](auto& v) { return v[0].transpose(0, 2).reshape({4, 6}); }},
      {"view", [](auto& v) { return v[0].view({6, -1}); }},
      {"slice_step", [](auto& v) { return v[0].slice(1, 1, 6, 2); }},
      {"narrow", [](auto& v) { return v[0].narrow(0, 1, 2); }},
      {"select", [](auto& v) { return v[0].select(1, -2); }},
      {"expand", [](auto& v) { return v[0].expand({2, 3, 5}); }},
      {"flatten", [](auto& v) { return v[0].flatten(1, 2); }},
      {"unsqueeze_squeeze", [](auto& v) { return v[0].unsqueeze(1).unsqueeze(-1).squeeze(1); }},
      {"cat", [](auto& v) { return cat(v, 1); }},
      {"stack", [](auto& v) { return stack(v, 1); }},
      {"split", [](auto& v) { return split(v[0], std::vector<int64_t>{3, 4}, 1)[1] * 2.0f; }},
      {"chunk", [](auto& v) { return chunk(v[0], 3, 0)[2] - chunk(v[0], 3, 0)[0]; }},
      {"matmul_2d", [](auto& v) { return matmul(v[0], v[1]); }},
      {"matmul_batched_broadcast", [](auto& v) { return matmul(v[0], v[1]); }},
      {"matmul_vec_mat", [](auto& v) { return matmul(v[0], v[1]); }},
      {"matmul_mat_vec", [](auto& v) { return matmul(v[0], v[1]); }},
      {"matmul_vec_vec", [](auto& v) { return matmul(v[0], v[1]); }},
      {"matmul_transposed", [](auto& v) { return matmul(v[0].t(), v[1].t()); }},
      {"matmul_large", [](auto& v) { return matmul(v[0], v[1]); }},
      {"mlp", [](auto& v) { return log_softmax(matmul(tanh(matmul(v[0], v[1]) + v[2]), v[3]), 1); }},
  };
  return table;
}

// |a - b| <= atol + rtol * |b| elementwise; reports the worst element.
void require_close(const TF& got, const TF& want, const std::string& what, float atol = 1e-5f, float rtol = 1e-5f) {
  INFO(what << ": crisp shape " << got.shape() << ", torch shape " << want.shape());
  REQUIRE(got.shape() == want.shape());
  const auto g = got.to_vector(), w = want.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double excess = std::abs(double(g[i]) - double(w[i])) - (atol + rtol * std::abs(double(w[i])));
    if (excess > worst) worst = excess, at = i;
  }
  INFO("worst element " << at << ": crisp " << (g.empty() ? 0 : g[at]) << ", torch " << (w.empty() ? 0 : w[at]));
  REQUIRE(worst <= 0);
}

}  // namespace

TEST_CASE("every op matches PyTorch's outputs and gradients") {
  const auto golden = io::load_safetensors(std::string(CRISP_TEST_DATA_DIR) + "/golden/ops.safetensors");
  std::set<std::string> names;
  for (const auto& [key, t] : golden) names.insert(key.substr(0, key.find('.')));
  // The table and the file cover the same cases: none is silently skipped.
  std::set<std::string> table;
  for (const auto& [name, f] : cases()) table.insert(name);
  REQUIRE(names == table);

  for (const auto& [name, f] : cases()) {
    SECTION(name) {
      std::vector<TF> in;
      for (int i = 0; golden.count(name + ".in" + std::to_string(i)); ++i)
        in.push_back(golden.at(name + ".in" + std::to_string(i)).clone().requires_grad_());
      TF out = f(in);
      require_close(out, golden.at(name + ".out"), name + " output");
      if (!golden.count(name + ".r")) continue;  // integer-valued outputs (argmax) have no gradient
      out.backward(golden.at(name + ".r"));
      for (size_t i = 0; i < in.size(); ++i) {
        const TF g = in[i].grad().defined() ? in[i].grad() : zeros_like(in[i]);
        require_close(g, golden.at(name + ".grad" + std::to_string(i)), name + " grad" + std::to_string(i));
      }
    }
  }
}
