// crisp::gradcheck: compares the gradients autograd computes with central finite differences,
// in double precision. It checks the vector-Jacobian product for a random vector r, i.e. the
// gradient of sum(f(x) * r), against (f(x + eps) - f(x - eps)) . r / 2eps for every input element.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "crisp/autograd/engine.hpp"
#include "crisp/tensor/factory.hpp"

namespace crisp {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  uint64_t seed = 1234;
};

namespace detail {
inline double projected(const Tensor<double>& y, const Tensor<double>& r) {
  const std::vector<double> yv = y.to_vector(), rv = r.to_vector();
  double s = 0;
  for (size_t i = 0; i < yv.size(); ++i) s += yv[i] * rv[i];
  return s;
}
}  // namespace detail

// Returns true, or throws crisp::Error naming the input and element whose gradient is wrong.
// Inputs that do not require grad are passed through unchanged and not checked.
inline bool gradcheck(const std::function<Tensor<double>(const std::vector<Tensor<double>>&)>& f,
                      const std::vector<Tensor<double>>& inputs, const GradcheckOptions& opt = {}) {
  std::vector<Tensor<double>> xs;
  for (const auto& x : inputs) {
    if (x.defined() && x.requires_grad()) {
      Tensor<double> c = cast<double>(x);
      c.requires_grad_();
      xs.push_back(c);
    } else {
      xs.push_back(x);
    }
  }
  Tensor<double> y = f(xs);
  CRISP_CHECK(y.defined() && y.requires_grad(), Error, "gradcheck",
              "expected f to return a tensor that depends on a grad-requiring input, got one that does not");
  Generator gen(opt.seed);
  const Tensor<double> r = randn<double>(y.shape(), gen);
  y.backward(r);

  NoGradGuard no_grad;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined() || !xs[i].requires_grad()) continue;
    const Tensor<double> g = xs[i].grad();
    const std::vector<double> analytic = g.defined() ? g.to_vector() : std::vector<double>(size_t(xs[i].numel()), 0.0);
    double* p = xs[i].data();
    for (int64_t j = 0; j < xs[i].numel(); ++j) {
      const double orig = p[j];
      p[j] = orig + opt.eps;
      const double plus = detail::projected(f(xs), r);
      p[j] = orig - opt.eps;
      const double minus = detail::projected(f(xs), r);
      p[j] = orig;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double a = analytic[static_cast<size_t>(j)];
      if (!(std::abs(a - numeric) <= opt.atol + opt.rtol * std::abs(numeric))) {
        std::ostringstream os;
        os << "gradcheck: gradient of input " << i << " (shape " << xs[i].shape() << ") differs at flat index " << j
           << ": analytic " << a << ", numeric " << numeric << " (atol " << opt.atol << ", rtol " << opt.rtol << ")";
        throw Error(os.str());
      }
    }
  }
  return true;
}

}  // namespace crisp
