// crisp::Tensor<T>: a cheap handle (shared pointer) to a strided view of shared storage, with
// the autograd metadata that makes it a node of a define-by-run graph. T is float or double;
// int64_t tensors hold indices (argmax) and take part in no autograd.
//
// Methods declared here and defined in ops/ or autograd/ (reshape, sum, backward, ...) need
// those headers; include <crisp/crisp.hpp>.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <vector>

#include "crisp/tensor/device.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/shape.hpp"
#include "crisp/tensor/storage.hpp"

namespace crisp {

template <class T>
class Tensor;

namespace autograd {
template <class T>
struct Node;
}

template <class T>
inline constexpr bool is_floating_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
struct TensorImpl {
  std::shared_ptr<Storage<T>> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;

  // Autograd: a leaf that requires grad accumulates into `grad` through `grad_accumulator`;
  // a non-leaf result of a recorded op points at the node that produced it.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl<T>> grad;
  std::shared_ptr<autograd::Node<T>> grad_fn;
  std::shared_ptr<autograd::Node<T>> grad_accumulator;
};

template <class T>
class Tensor {
  static_assert(is_floating_v<T> || std::is_same_v<T, int64_t>,
                "crisp::Tensor<T>: T must be float, double or int64_t");

 public:
  using value_type = T;

  // An undefined tensor (like a default torch::Tensor): defined() is false.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl<T>> impl) : impl_(std::move(impl)) {}

  // Fresh contiguous, uninitialised tensor of `shape`.
  static Tensor empty(const Shape& shape, Device device = Device::cpu()) {
    for (int64_t d : shape)
      CRISP_CHECK(d >= 0, ShapeError, "empty", "expected non-negative extents, got ", shape);
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = std::make_shared<Storage<T>>(shape.numel(), device);
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    return Tensor(std::move(impl));
  }
  // A view of existing storage.
  static Tensor view_of(std::shared_ptr<Storage<T>> storage, const Shape& shape, const Strides& strides,
                        int64_t offset) {
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->storage = std::move(storage);
    impl->shape = shape;
    impl->strides = strides;
    impl->offset = offset;
    return Tensor(std::move(impl));
  }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t dim() const { return impl().shape.size(); }
  int64_t size(int64_t d) const { return impl().shape[wrap_dim(d, dim(), "size")]; }
  int64_t stride(int64_t d) const { return impl().strides[wrap_dim(d, dim(), "stride")]; }
  int64_t numel() const { return impl().shape.numel(); }
  int64_t storage_offset() const { return impl().offset; }
  Device device() const { return impl().storage->device(); }
  const std::shared_ptr<Storage<T>>& storage() const { return impl().storage; }
  bool is_contiguous() const {
    int64_t expected = 1;
    for (int64_t i = dim() - 1; i >= 0; --i) {
      if (shape()[i] == 1) continue;
      if (strides()[i] != expected) return false;
      expected *= shape()[i];
    }
    return true;
  }
  // Whether two tensors are views of the same storage.
  bool shares_storage_with(const Tensor& other) const { return impl().storage == other.impl().storage; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

  // Host pointer to the first element (element [0, 0, ...]); strides apply from there. Every CPU
  // kernel reads tensors through here, so in CUDA builds a device tensor reaching a CPU kernel
  // throws instead of being dereferenced on the host (no silent CPU fallback).
  T* data() const {
#if defined(CRISP_WITH_CUDA)
    CRISP_CHECK(device().is_cpu(), Error, "Tensor::data",
                "expected a CPU tensor, got one on ", device(), " of shape ", shape(),
                " (this op has no CUDA kernel; move the tensor with .to(crisp::Device::cpu()) first)");
#endif
    return impl().storage->data() + impl().offset;
  }
  // Pointer to the first element on whatever device the storage lives (libtorch's data_ptr):
  // what the CUDA launchers take.
  T* data_ptr() const { return impl().storage->data() + impl().offset; }

  // Element access by index (negative indices count from the end); CPU only.
  T& at(std::initializer_list<int64_t> index) const { return data()[element_offset(index)]; }
  template <class... I>
    requires(std::is_integral_v<I> && ...)
  T& operator()(I... index) const {
    return at({static_cast<int64_t>(index)...});
  }
  // The single value of a one-element tensor.
  T item() const {
    CRISP_CHECK(numel() == 1, ShapeError, "item", "expected a tensor with one element, got shape ", shape());
    if (!device().is_cpu()) return to_vector()[0];  // one value copied back (a sync point)
    return *data();
  }
  // Copy of the elements in row-major order.
  std::vector<T> to_vector() const;
  // The same values on `device` (ops/to_device.hpp): *this when already there, else a contiguous
  // copy; the only way data moves between host and device. Differentiable.
  Tensor to(Device device) const;
  bool is_cuda() const { return device().is_cuda(); }

  // ---- autograd (see autograd/) ---------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }
  // Marks a leaf as requiring grad; returns *this so it chains after a factory call.
  Tensor& requires_grad_(bool value = true) {
    static_assert(is_floating_v<T>, "requires_grad_: only float and double tensors take gradients");
    CRISP_CHECK(is_leaf(), AutogradError, "requires_grad_",
                "expected a leaf tensor, got the result of an op (call detach() first)");
    impl().requires_grad = value;
    return *this;
  }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // The accumulated gradient of a leaf (undefined until a backward reaches it).
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl().grad = g.defined() ? g.impl_ : nullptr; }
  const std::shared_ptr<autograd::Node<T>>& grad_fn() const { return impl().grad_fn; }
  // Same data, cut from the graph.
  Tensor detach() const { return view_of(storage(), shape(), strides(), storage_offset()); }
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;

  // ---- methods that forward to ops/ -----------------------------------------------------
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor expand(const Shape& shape) const;
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;

  // In-place updates of data that no recorded graph depends on (optimisers, initialisers).
  Tensor& fill_(T value);
  Tensor& zero_() { return fill_(T(0)); }
  Tensor& copy_(const Tensor& src);
  Tensor& add_(const Tensor& other, T alpha = T(1));
  Tensor& mul_(T value);

  TensorImpl<T>& impl() const {
    CRISP_CHECK(impl_ != nullptr, Error, "Tensor", "expected a defined tensor, got an undefined one");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl<T>>& impl_ptr() const { return impl_; }

 private:
  int64_t element_offset(std::initializer_list<int64_t> index) const {
    CRISP_CHECK(static_cast<int64_t>(index.size()) == dim(), ShapeError, "at", "expected ", dim(),
                " indices for shape ", shape(), ", got ", index.size());
    int64_t off = 0, d = 0;
    for (int64_t i : index) {
      const int64_t n = shape()[d];
      CRISP_CHECK(i >= -n && i < n, ShapeError, "at", "index ", i, " is out of range for dim ", d,
                  " of shape ", shape());
      off += (i < 0 ? i + n : i) * strides()[d];
      ++d;
    }
    return off;
  }

  std::shared_ptr<TensorImpl<T>> impl_;
};

}  // namespace crisp
