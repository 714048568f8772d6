// pad / pooling / interpolate against PyTorch: tools/make_image_op_goldens.py stores each case's
// input, output, a cotangent r, the gradient of sum(out * r) (and max-pool indices), and the op
// with its arguments in the file's metadata; this test replays every case with crisp.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "crisp/crisp.hpp"
#include "crisp/ops/padding.hpp"
#include "crisp/ops/pooling.hpp"
#include "crisp/ops/resize.hpp"

using namespace crisp;
using TF = Tensor<float>;

namespace {

const std::string kPath = std::string(CRISP_TEST_DATA_DIR) + "/golden/image_ops.safetensors";

using Spec = std::map<std::string, std::string>;

Spec parse_spec(const std::string& s) {
  Spec spec;
  std::istringstream in(s);
  std::string tok;
  while (in >> tok) {
    const auto eq = tok.find('=');
    REQUIRE(eq != std::string::npos);
    spec[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  return spec;
}

std::vector<std::string> fields(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string f; std::getline(in, f, ',');) out.push_back(f);
  return out;
}
std::vector<int64_t> ints(const Spec& sp, const std::string& key) {
  std::vector<int64_t> v;
  for (const auto& f : fields(sp.at(key))) v.push_back(std::stoll(f));
  return v;
}
Pair2 pair(const Spec& sp, const std::string& key) {
  const auto v = ints(sp, key);
  REQUIRE(v.size() == 2);
  return {v[0], v[1]};
}
std::optional<Pair2> opt_pair(const Spec& sp, const std::string& key) {
  if (sp.at(key) == "none") return std::nullopt;
  return pair(sp, key);
}
bool flag(const Spec& sp, const std::string& key) { return sp.at(key) == "1"; }

PadMode pad_mode(const std::string& m) {
  if (m == "constant") return PadMode::Constant;
  if (m == "reflect") return PadMode::Reflect;
  if (m == "replicate") return PadMode::Replicate;
  if (m == "circular") return PadMode::Circular;
  FAIL("unknown pad mode " << m);
  return PadMode::Constant;
}

// Runs one case; `idx` receives max-pool indices.
TF run(const Spec& sp, const TF& x, Tensor<int64_t>& idx) {
  const std::string& op = sp.at("op");
  if (op == "pad") return pad(x, ints(sp, "pads"), pad_mode(sp.at("mode")), std::stof(sp.at("value")));
  if (op == "max_pool2d") {
    auto [y, i] = max_pool2d_with_indices(x, pair(sp, "k"), opt_pair(sp, "s"), pair(sp, "p"), pair(sp, "d"), flag(sp, "ceil"));
    idx = i;
    return y;
  }
  if (op == "avg_pool2d") {
    std::optional<int64_t> div;
    if (sp.at("div") != "none") div = std::stoll(sp.at("div"));
    return avg_pool2d(x, pair(sp, "k"), opt_pair(sp, "s"), pair(sp, "p"), flag(sp, "ceil"), flag(sp, "cip"), div);
  }
  if (op == "adaptive_avg_pool2d") return adaptive_avg_pool2d(x, pair(sp, "out"));
  if (op == "interpolate") {
    std::optional<std::pair<double, double>> scale;
    if (sp.at("scale") != "none") {
      const auto f = fields(sp.at("scale"));
      REQUIRE(f.size() == 2);
      scale = std::pair{std::stod(f[0]), std::stod(f[1])};
    }
    const auto mode = sp.at("mode") == "bilinear" ? InterpolateMode::Bilinear : InterpolateMode::Nearest;
    return interpolate(x, opt_pair(sp, "size"), scale, mode, flag(sp, "ac"));
  }
  FAIL("unknown op " << op);
  return {};
}

// |a - b| <= atol + rtol * |b| elementwise (NaN matches NaN); reports the worst element.
void require_close(const TF& got, const TF& want, const std::string& what, float atol = 1e-5f, float rtol = 1e-5f) {
  INFO(what << ": crisp shape " << got.shape() << ", torch shape " << want.shape());
  REQUIRE(got.shape() == want.shape());
  const auto g = got.contiguous().to_vector(), w = want.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) || std::isnan(w[i])) {
      if (std::isnan(g[i]) != std::isnan(w[i])) worst = 1e30, at = i;
      continue;
    }
    const double excess = std::abs(double(g[i]) - double(w[i])) - (atol + rtol * std::abs(double(w[i])));
    if (excess > worst) worst = excess, at = i;
  }
  INFO("worst element " << at << ": crisp " << (g.empty() ? 0 : g[at]) << ", torch " << (w.empty() ? 0 : w[at]));
  REQUIRE(worst <= 0);
}

}  // namespace

TEST_CASE("pad, pooling and interpolate match PyTorch's outputs and gradients") {
  const auto golden = io::load_safetensors(kPath);
  const auto meta = io::load_safetensors_metadata(kPath);
  std::map<std::string, Spec> specs;
  for (const auto& [key, value] : meta)
    if (key.rfind("case.", 0) == 0) specs[key.substr(5)] = parse_spec(value);

  // Every tensor in the file belongs to a described case, and every op is covered.
  std::set<std::string> names, ops;
  for (const auto& [key, t] : golden) names.insert(key.substr(0, key.find('.')));
  std::set<std::string> described;
  for (const auto& [name, sp] : specs) described.insert(name), ops.insert(sp.at("op"));
  REQUIRE(names == described);
  REQUIRE(ops == std::set<std::string>{"pad", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate"});
  REQUIRE(specs.size() >= 90);

  for (const auto& [name, sp] : specs) {
    SECTION(name) {
      INFO("case " << name << ": " << meta.at("case." + name));
      TF x = golden.at(name + ".in0").clone().requires_grad_();
      Tensor<int64_t> idx;
      TF out = run(sp, x, idx);
      require_close(out, golden.at(name + ".out"), name + " output");
      if (golden.count(name + ".idx")) {
        REQUIRE(idx.defined());
        require_close(cast<float>(idx), golden.at(name + ".idx"), name + " indices", 0, 0);
      }
      out.backward(golden.at(name + ".r"));
      const TF g = x.grad().defined() ? x.grad() : zeros_like(x);
      require_close(g, golden.at(name + ".grad0"), name + " grad");
    }
  }
}
