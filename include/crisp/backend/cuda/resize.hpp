// CUDA twins of the resize primitives (backend/resize.hpp): nearest and bilinear over contiguous
// [planes, H, W] device buffers, forward and backward. The host-built maps and taps are uploaded
// for the launch; the backward gathers through inverted maps (deterministic). Kernels in
// kernels/resize.cu.
#pragma once

#include <cstdint>
#include <vector>

#include "crisp/backend/cuda/device_vector.hpp"
#include "crisp/backend/cuda/native/spatial.hpp"
#include "crisp/backend/geometry.hpp"

namespace crisp::cuda {

template <class T>
void resize_nearest_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const std::vector<int64_t>& rows,
                            const std::vector<int64_t>& cols) {
  const DeviceVector<int64_t> r(rows), c(cols);
  native::gather2d_forward<T>(x, y, planes, H, W, r.get(), static_cast<int64_t>(rows.size()), c.get(),
                              static_cast<int64_t>(cols.size()), T(0), current_stream());
}

template <class T>
void resize_nearest_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, const std::vector<int64_t>& rows,
                             const std::vector<int64_t>& cols) {
  const InvertedMap<T> ir = invert_map<T>(H, {&rows}, {}), ic = invert_map<T>(W, {&cols}, {});
  const DeviceVector<int64_t> rs(ir.start), ro(ir.out), cs(ic.start), co(ic.out);
  native::gather2d_backward<T>(gy, gx, planes, H, W, static_cast<int64_t>(rows.size()),
                               static_cast<int64_t>(cols.size()), {rs.get(), ro.get(), nullptr},
                               {cs.get(), co.get(), nullptr}, current_stream());
}

template <class T>
void resize_bilinear_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, const LinearTaps<T>& rt,
                             const LinearTaps<T>& ct) {
  const DeviceVector<int64_t> r0(rt.i0), r1(rt.i1), c0(ct.i0), c1(ct.i1);
  const DeviceVector<T> rl0(rt.l0), rl1(rt.l1), cl0(ct.l0), cl1(ct.l1);
  native::bilinear_forward<T>(x, y, planes, H, W, r0.get(), r1.get(), rl0.get(), rl1.get(),
                              static_cast<int64_t>(rt.i0.size()), c0.get(), c1.get(), cl0.get(), cl1.get(),
                              static_cast<int64_t>(ct.i0.size()), current_stream());
}

template <class T>
void resize_bilinear_backward(const T* gy, T* gx, int64_t planes, int64_t H, int64_t W, const LinearTaps<T>& rt,
                              const LinearTaps<T>& ct) {
  const InvertedMap<T> ir = invert_map<T>(H, {&rt.i0, &rt.i1}, {&rt.l0, &rt.l1});
  const InvertedMap<T> ic = invert_map<T>(W, {&ct.i0, &ct.i1}, {&ct.l0, &ct.l1});
  const DeviceVector<int64_t> rs(ir.start), ro(ir.out), cs(ic.start), co(ic.out);
  const DeviceVector<T> rw(ir.w), cw(ic.w);
  native::gather2d_backward<T>(gy, gx, planes, H, W, static_cast<int64_t>(rt.i0.size()),
                               static_cast<int64_t>(ct.i0.size()), {rs.get(), ro.get(), rw.get()},
                               {cs.get(), co.get(), cw.get()}, current_stream());
}

}  // namespace crisp::cuda
