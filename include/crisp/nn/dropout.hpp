// Dropout module: zeroes elements with probability p in training mode (scaling the rest by
// 1 / (1 - p)) and is the identity in eval mode, over crisp::dropout.
#pragma once

#include <ostream>

#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/options.hpp"
#include "crisp/ops/dropout.hpp"

namespace crisp::nn {

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit, as libtorch
  CRISP_ARG(double, p);
  CRISP_ARG(bool, inplace) = false;  // accepted for ported code; computed out of place
};

// Masks come from the Generator given at construction (it must outlive the module), or else
// from crisp::default_generator() of the calling thread.
template <class T>
class DropoutImplT : public ModuleT<T> {
 public:
  explicit DropoutImplT(const DropoutOptions& options = {}) : ModuleT<T>("Dropout"), options(options) { check(); }
  DropoutImplT(const DropoutOptions& options, Generator& gen) : ModuleT<T>("Dropout"), options(options), gen_(&gen) {
    check();
  }
  Tensor<T> forward(const Tensor<T>& x) {
    return dropout(x, options.p(), this->is_training(), gen_ ? *gen_ : default_generator());
  }
  void pretty_print(std::ostream& os) const override {
    os << "Dropout(p=" << options.p() << ", inplace=" << (options.inplace() ? "True" : "False") << ")";
  }
  DropoutOptions options;

 private:
  void check() const {
    CRISP_CHECK(options.p() >= 0.0 && options.p() <= 1.0, ValueError, "Dropout",
                "dropout probability has to be between 0 and 1, got ", options.p());
  }
  Generator* gen_ = nullptr;
};

template <class T> using DropoutT = ModuleHolder<DropoutImplT<T>>;
using DropoutImpl = DropoutImplT<float>;
using Dropout = DropoutT<float>;

}  // namespace crisp::nn
