// The one place where a primitive is sent to its CPU or CUDA twin. Every primitive the ops use is
// a pair of functions with identical signatures, crisp::cpu::name and crisp::cuda::name (dlib's
// tensor_tools idea); the backend:: wrapper checks that its tensors share a device and calls
// CRISP_DISPATCH, which picks the twin by that device. Nothing above this layer names a backend,
// and nothing falls back to the CPU: a device without its twin is an error.
#pragma once

#include "crisp/tensor/tensor.hpp"

namespace crisp::backend {

namespace detail {
inline void note_device(const char* op, const Device& d, bool& have, Device& first) {
  if (!have) {
    first = d;
    have = true;
    return;
  }
  CRISP_CHECK(d == first, Error, op, "expected all tensors on one device, got ", first, " and ", d,
              " (move one with .to(device))");
}
template <class T>
void note(const char* op, const Tensor<T>& t, bool& have, Device& first) {
  if (t.defined()) note_device(op, t.device(), have, first);
}
}  // namespace detail

// The device shared by every defined tensor among `ts`; throws naming the op and both devices
// when two differ. With no defined tensor it is the CPU.
template <class... Ts>
Device common_device(const char* op, const Ts&... ts) {
  bool have = false;
  Device first = Device::cpu();
  (detail::note(op, ts, have, first), ...);
  return first;
}

// What a build without CUDA answers for a device tensor (none can exist there: Storage refuses to
// allocate one, so this is a guard, not a path).
[[noreturn]] inline void no_cuda(const char* primitive, const Device& d) {
  throw Error(crisp::detail::str_cat(primitive, ": crisp was built without CUDA (CRISP_WITH_CUDA=OFF), got a tensor on ",
                                     d));
}

}  // namespace crisp::backend

#if defined(CRISP_WITH_CUDA)
#define CRISP_DISPATCH(device, fn, ...) \
  ((device).is_cuda() ? ::crisp::cuda::fn(__VA_ARGS__) : ::crisp::cpu::fn(__VA_ARGS__))
#else
#define CRISP_DISPATCH(device, fn, ...) \
  ((device).is_cuda() ? ::crisp::backend::no_cuda(#fn, (device)) : ::crisp::cpu::fn(__VA_ARGS__))
#endif
