// Motion-blur kernels: random camera-shake trajectories (Boracchi & Foi 2012, as DeblurGAN's
// generator popularised them) rendered into PSFs of any odd size; kernel banks saved and loaded as
// one safetensors file; real kernels read from PNG or text files.
#pragma once

// The synthesis, step by step (all random numbers from the caller's Generator, in this order):
//  1. expl is drawn from options.expl (uniform_int), the exposure fraction from options.exposures;
//  2. centripetal = centripetal_max U, prob_big_shake = big_shake_max U, gaussian_shake =
//     gaussian_shake_max U, angle = 2 pi U; v = expl e^{i angle}; x_0 = 0 (complex positions:
//     real = column, imaginary = row, on DeblurGAN's canonical canvas of 64 pixels);
//  3. for t = 0 .. iters - 2: with probability prob_big_shake expl (one U) an impulsive shake
//     2 v e^{i (pi + U - 0.5)} is added to dv (a second U); then, with (N1, N2) = normal_pair,
//     dv += expl (gaussian_shake (N1 + i N2) - centripetal x_t) max_len / (iters - 1);
//     v += dv, |v| rescaled to max_len / (iters - 1); x_{t+1} = x_t + v;
//  4. the first max(2, ceil(exposure iters)) positions are kept, scaled by size / canvas (so a
//     64-pixel kernel is DeblurGAN's canvas and every size sees the same distribution of
//     shapes), shrunk further if their bounding box would not fit in size - 1 pixels (or, with
//     options.fill, scaled so that it spans exactly size - 1 pixels), and shifted so that the
//     bounding box is centred on the kernel's centre pixel;
//  5. each position is splatted bilinearly (sub-pixel) into a size x size accumulator (in double),
//     which is normalised to sum 1.
// Departures from DeblurGAN, on purpose: DeblurGAN renders on a fixed 64-pixel canvas and clamps
// positions at the border (piling mass on the edge); here the path is scaled to the requested
// size, so the support always lies inside it. Its partial-sample weighting at exposure
// boundaries is dropped (a fraction of one sample among 2000).
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/data/image_io.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::data {

struct MotionBlurOptions {
  int64_t iters = 2000;     // trajectory samples
  double max_len = 60;      // path length on the canonical canvas
  double canvas = 64;       // canonical canvas size (pixels) that maps onto a 64 x 64 kernel
  std::vector<double> expl = {0.01, 0.009, 0.008, 0.007, 0.005, 0.003};  // DeblurGAN's set; one drawn
  std::vector<double> exposures = {1.0};  // fraction of the trajectory integrated; one drawn
  double centripetal_max = 0.7;           // pull back towards the start
  double big_shake_max = 0.2;             // probability scale of impulsive shakes
  double gaussian_shake_max = 10;         // random component of the direction change
  // false: the path keeps its canonical scale (size / canvas), so the blur's extent varies with
  // the trajectory (on average about 0.3 size + 1.6 pixels); true: the path is scaled so that
  // its bounding box spans the whole kernel (size - 1 pixels), making the size the blur length.
  bool fill = false;
};

namespace detail {
inline void check_motion_options(const MotionBlurOptions& o, const char* op) {
  CRISP_CHECK(o.iters >= 2, ValueError, op, "expected iters >= 2, got ", o.iters);
  CRISP_CHECK(o.max_len > 0 && o.canvas > 0, ValueError, op, "expected positive max_len and canvas, got ", o.max_len,
              " and ", o.canvas);
  CRISP_CHECK(!o.expl.empty() && !o.exposures.empty(), ValueError, op, "expected non-empty expl and exposures lists");
  for (double e : o.expl) CRISP_CHECK(e > 0, ValueError, op, "expected positive expl values, got ", e);
  for (double e : o.exposures)
    CRISP_CHECK(e > 0 && e <= 1, ValueError, op, "expected exposure fractions in (0, 1], got ", e);
}
}  // namespace detail

// A random camera trajectory on the canonical canvas (steps 2-3 above) for a given expl.
inline std::vector<std::complex<double>> motion_trajectory(Generator& gen, double expl,
                                                           const MotionBlurOptions& o = {}) {
  detail::check_motion_options(o, "motion_trajectory");
  CRISP_CHECK(expl > 0, ValueError, "motion_trajectory", "expected expl > 0, got ", expl);
  using C = std::complex<double>;
  const double pi = 3.14159265358979323846;
  const double centripetal = o.centripetal_max * gen.uniform();
  const double prob_big_shake = o.big_shake_max * gen.uniform();
  const double gaussian_shake = o.gaussian_shake_max * gen.uniform();
  const double angle = 2 * pi * gen.uniform();
  const double step = o.max_len / static_cast<double>(o.iters - 1);
  C v = std::polar(1.0, angle) * expl;
  std::vector<C> x(static_cast<size_t>(o.iters), C(0, 0));
  for (size_t t = 0; t + 1 < x.size(); ++t) {
    C dv(0, 0);
    if (gen.uniform() < prob_big_shake * expl) dv = 2.0 * v * std::polar(1.0, pi + gen.uniform() - 0.5);
    const auto n = gen.normal_pair();
    dv += expl * (gaussian_shake * C(n[0], n[1]) - centripetal * x[t]) * step;
    v += dv;
    const double len = std::abs(v);
    v = len > 0 ? v / len * step : std::polar(step, angle);
    x[t + 1] = x[t] + v;
  }
  return x;
}

// Renders trajectory positions (already in kernel pixels) into a normalised size x size PSF after
// shrinking (or, with `fill`, scaling to span the kernel) and centring them as in step 4.
inline Tensor<float> render_psf(std::vector<std::complex<double>> pts, int64_t size, bool fill = false) {
  CRISP_CHECK(size >= 1 && size % 2 == 1, ValueError, "render_psf", "expected an odd kernel size >= 1, got ", size);
  CRISP_CHECK(!pts.empty(), ValueError, "render_psf", "expected at least one trajectory position");
  double x0 = pts[0].real(), x1 = x0, y0 = pts[0].imag(), y1 = y0;
  for (const auto& p : pts) {
    x0 = std::min(x0, p.real()), x1 = std::max(x1, p.real());
    y0 = std::min(y0, p.imag()), y1 = std::max(y1, p.imag());
  }
  const double room = static_cast<double>(size - 1), extent = std::max(x1 - x0, y1 - y0);
  const double shrink = (extent > room || (fill && extent > 0)) ? room / extent : 1.0;
  const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, centre = room / 2;
  std::vector<double> acc(static_cast<size_t>(size * size), 0.0);
  auto add = [&](int64_t r, int64_t c, double w) {
    if (w > 0 && r >= 0 && r < size && c >= 0 && c < size) acc[static_cast<size_t>(r * size + c)] += w;
  };
  for (const auto& p : pts) {
    // Clamped only against rounding at the very edge: the shrink already keeps points inside.
    const double px = std::clamp(centre + (p.real() - cx) * shrink, 0.0, room);
    const double py = std::clamp(centre + (p.imag() - cy) * shrink, 0.0, room);
    const double fx = std::floor(px), fy = std::floor(py), wx = px - fx, wy = py - fy;
    const auto c = static_cast<int64_t>(fx), r = static_cast<int64_t>(fy);
    add(r, c, (1 - wx) * (1 - wy));
    add(r, c + 1, wx * (1 - wy));
    add(r + 1, c, (1 - wx) * wy);
    add(r + 1, c + 1, wx * wy);
  }
  double sum = 0;
  for (double a : acc) sum += a;
  Tensor<float> k = Tensor<float>::empty(Shape{size, size});
  for (size_t i = 0; i < acc.size(); ++i) k.data()[i] = static_cast<float>(acc[i] / sum);
  return k;
}

// One random motion-blur kernel of odd `size`, non-negative, summing to 1.
inline Tensor<float> motion_blur_kernel(int64_t size, Generator& gen, const MotionBlurOptions& o = {}) {
  CRISP_CHECK(size >= 3 && size % 2 == 1, ValueError, "motion_blur_kernel", "expected an odd kernel size >= 3, got ",
              size);
  detail::check_motion_options(o, "motion_blur_kernel");
  const double expl = o.expl[static_cast<size_t>(gen.uniform_int(o.expl.size()))];
  const double exposure = o.exposures[static_cast<size_t>(gen.uniform_int(o.exposures.size()))];
  std::vector<std::complex<double>> x = motion_trajectory(gen, expl, o);
  const auto keep = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(exposure * static_cast<double>(o.iters))), 2,
                                        o.iters);
  x.resize(static_cast<size_t>(keep));
  const double k = static_cast<double>(size) / o.canvas;
  for (auto& p : x) p *= k;
  return render_psf(std::move(x), size, o.fill);
}

// ---- kernel banks ------------------------------------------------------------------------

using KernelBank = std::vector<Tensor<float>>;

// `per_size` kernels of each size, sizes in the order given (e.g. 13, 15, ..., 27).
inline KernelBank make_kernel_bank(const std::vector<int64_t>& sizes, int64_t per_size, Generator& gen,
                                   const MotionBlurOptions& o = {}) {
  CRISP_CHECK(per_size >= 0, ValueError, "make_kernel_bank", "expected per_size >= 0, got ", per_size);
  KernelBank bank;
  bank.reserve(sizes.size() * static_cast<size_t>(per_size));
  for (int64_t s : sizes)
    for (int64_t i = 0; i < per_size; ++i) bank.push_back(motion_blur_kernel(s, gen, o));
  return bank;
}

namespace detail {
inline std::string kernel_name(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "kernel_%06zu", i);
  return buf;
}
}  // namespace detail

// One safetensors file: tensors "kernel_000000", "kernel_000001", ... (F32 [h, w]) in bank order,
// metadata {"crisp.kind": "kernel_bank", "count": N}. Written atomically.
inline void save_kernel_bank(const KernelBank& bank, const std::string& path) {
  CRISP_CHECK(bank.size() < 1000000, ValueError, "save_kernel_bank", "expected fewer than 1,000,000 kernels, got ",
              bank.size());
  std::map<std::string, Tensor<float>> named;
  for (size_t i = 0; i < bank.size(); ++i) {
    CRISP_CHECK(bank[i].defined() && bank[i].dim() == 2, ShapeError, "save_kernel_bank", "expected kernel ", i,
                " to be a 2-d tensor, got ", bank[i].defined() ? bank[i].shape() : Shape{});
    named.emplace(detail::kernel_name(i), bank[i]);
  }
  io::save_safetensors(path, named, {{"crisp.kind", "kernel_bank"}, {"count", std::to_string(bank.size())}});
}

inline KernelBank load_kernel_bank(const std::string& path) {
  const auto contents = io::read_safetensors<float>(path);
  const auto kind = contents.metadata.find("crisp.kind");
  if (kind == contents.metadata.end() || kind->second != "kernel_bank")
    throw IoError(crisp::detail::str_cat("load_kernel_bank: '", path,
                                         "' expected metadata crisp.kind = kernel_bank (a file written by save_kernel_bank)"));
  KernelBank bank;
  bank.reserve(contents.tensors.size());
  for (const auto& [name, t] : contents.tensors) {  // std::map: names sort in bank order
    const std::string expected = detail::kernel_name(bank.size());
    if (name != expected)
      throw IoError(crisp::detail::str_cat("load_kernel_bank: '", path, "' expected tensor '", expected, "', got '", name,
                                           "'"));
    if (t.dim() != 2 || t.numel() == 0)
      throw IoError(crisp::detail::str_cat("load_kernel_bank: '", path, "' tensor '", name,
                                           "' expected a non-empty 2-d kernel, got shape ", t.shape()));
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(t.data()[i]) || t.data()[i] < 0)
        throw IoError(crisp::detail::str_cat("load_kernel_bank: '", path, "' tensor '", name,
                                             "' expected finite non-negative weights, got ", t.data()[i]));
    bank.push_back(t);
  }
  const auto count = contents.metadata.find("count");
  if (count != contents.metadata.end() && count->second != std::to_string(bank.size()))
    throw IoError(crisp::detail::str_cat("load_kernel_bank: '", path, "' metadata says ", count->second,
                                         " kernels, the file holds ", bank.size()));
  return bank;
}

// ---- kernels from files --------------------------------------------------------------------

// A copy of `k` divided by its sum (which must be positive and finite).
inline Tensor<float> normalize_kernel(const Tensor<float>& k, const std::string& what = "normalize_kernel") {
  CRISP_CHECK(k.defined() && k.dim() == 2 && k.numel() > 0, ShapeError, what, "expected a non-empty 2-d kernel, got ",
              k.defined() ? k.shape() : Shape{});
  Tensor<float> out = Tensor<float>::empty(k.shape());
  double sum = 0;
  for (int64_t r = 0; r < k.size(0); ++r)
    for (int64_t c = 0; c < k.size(1); ++c) sum += k.data()[r * k.stride(0) + c * k.stride(1)];
  CRISP_CHECK(sum > 0 && std::isfinite(sum), ValueError, what, "expected a kernel with a positive, finite sum, got ", sum);
  for (int64_t r = 0; r < k.size(0); ++r)
    for (int64_t c = 0; c < k.size(1); ++c)
      out.data()[r * k.size(1) + c] = static_cast<float>(k.data()[r * k.stride(0) + c * k.stride(1)] / sum);
  return out;
}

// A kernel stored as an image (e.g. 8-bit PNG scaled to max 255): read as gray, divided by its sum.
inline Tensor<float> load_kernel_image(const std::string& path) {
  const Tensor<float> img = load_image(path, ImageMode::Gray);
  const Shape hw{img.size(1), img.size(2)};
  const Tensor<float> plane = Tensor<float>::view_of(img.storage(), hw, contiguous_strides(hw), img.storage_offset());
  return normalize_kernel(plane, "load_kernel_image('" + path + "')");
}

// A kernel stored as text: one row per line, values separated by spaces, tabs or commas, '#'
// starts a comment, blank lines are skipped. Divided by its sum unless `normalize` is false.
inline Tensor<float> load_kernel_text(const std::string& path, bool normalize = true) {
  std::ifstream in(path);
  if (!in) throw IoError(crisp::detail::str_cat("load_kernel_text: cannot open '", path, "'"));
  std::vector<std::vector<float>> rows;
  std::string line;
  for (int64_t lineno = 1; std::getline(in, line); ++lineno) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream ls(line);
    std::vector<float> row;
    std::string tok;
    while (ls >> tok) {
      char* end = nullptr;
      const float v = std::strtof(tok.c_str(), &end);
      if (end == tok.c_str() || *end != '\0' || !std::isfinite(v))
        throw IoError(crisp::detail::str_cat("load_kernel_text: '", path, "' line ", lineno, ": expected a number, got '",
                                             tok, "'"));
      row.push_back(v);
    }
    if (row.empty()) continue;
    if (!rows.empty() && row.size() != rows[0].size())
      throw IoError(crisp::detail::str_cat("load_kernel_text: '", path, "' line ", lineno, ": expected ", rows[0].size(),
                                           " values like the first row, got ", row.size()));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw IoError(crisp::detail::str_cat("load_kernel_text: '", path, "' holds no numbers"));
  const auto H = static_cast<int64_t>(rows.size()), W = static_cast<int64_t>(rows[0].size());
  Tensor<float> k = Tensor<float>::empty(Shape{H, W});
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      const float v = rows[static_cast<size_t>(r)][static_cast<size_t>(c)];
      if (v < 0)
        throw IoError(crisp::detail::str_cat("load_kernel_text: '", path, "' expected non-negative weights, got ", v,
                                             " at row ", r, ", column ", c));
      k.data()[r * W + c] = v;
    }
  return normalize ? normalize_kernel(k, "load_kernel_text('" + path + "')") : k;
}

}  // namespace crisp::data
