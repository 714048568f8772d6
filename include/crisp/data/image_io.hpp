// Image files <-> tensors: PNG, JPEG, BMP, TGA and binary PGM/PPM decoded (stb_image) into float
// [C, H, W] tensors in [0, 1]; PNG, JPEG, BMP and TGA written; label maps as int64 [H, W].
#pragma once

// Conventions
//  - Images are float [C, H, W], values in [0, 1]: 8-bit samples are v / 255, 16-bit (PNG, PNM)
//    v / 65535, binary PGM/PPM v / maxval (parsed by crisp: stb 2.27 gets 16-bit PNM wrong).
//    ImageMode::Auto gives 1 channel for gray (and gray+alpha) files and 3 for RGB and
//    RGBA; Gray and RGB convert (stb: gray = (77 R + 150 G + 29 B) >> 8; gray -> RGB replicates).
//    Alpha is dropped, not composited (as PIL's convert("RGB")).
//  - Writing clamps to [0, 1] and rounds v * 255 to the nearest integer (halves away from zero);
//    NaN is refused. [H, W] tensors are written as gray. Files are written atomically (temporary
//    file in the same directory, then rename), so a failure never leaves a half-written image.
//  - Label maps are int64 [H, W] holding the 8-bit (or 16-bit) gray value of a single-channel
//    PNG; colour files are accepted only when R = G = B everywhere (palette PNGs are expanded to
//    colour by stb, so their indices are lost: store labels as gray PNGs).
//  - Every failure throws crisp::IoError (unreadable, empty, truncated or undecodable file, with
//    the path and stb's reason) or crisp::ValueError (bad tensor passed to a writer).
//  - Untrusted files: before stb sees the bytes, image_format_checks.hpp rejects truncated
//    JPEG / BMP / TGA files and JPEG Huffman tables that overflow stb 2.27 (CVE-2021-37789); the
//    decoder has been run under ASan + UBSan on tens of thousands of mutated PNG / JPEG files.
// Thread-safe: stb keeps its failure reason in a thread_local, and nothing else is shared.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "crisp/data/image_format_checks.hpp"
#include "crisp/data/stb.hpp"
#include "crisp/tensor/error.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::data {

enum class ImageMode { Auto, Gray, RGB };

namespace detail {

namespace sb = ::crisp_stb_private;

// The whole file, or IoError naming `op`, the path and the OS error.
inline std::vector<uint8_t> read_file(const std::string& path, const char* op) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(crisp::detail::str_cat(op, ": cannot open '", path, "': ", std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw IoError(crisp::detail::str_cat(op, ": cannot stat '", path, "': ", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw IoError(crisp::detail::str_cat(op, ": '", path, "' is a directory, not an image file"));
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<size_t>(std::max<off_t>(st.st_size, 0)));
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IoError(crisp::detail::str_cat(op, ": cannot read '", path, "': ", std::strerror(errno)));
    }
    if (r == 0) break;
    bytes.insert(bytes.end(), buf, buf + r);
  }
  return bytes;
}

// Writes `bytes` to `path` through a temporary file renamed into place.
inline void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes, const char* op) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw IoError(crisp::detail::str_cat(op, ": cannot create '", tmp, "' to write '", path, "': ", std::strerror(errno)));
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    throw IoError(crisp::detail::str_cat(op, ": ", what, " '", path, "': ", reason));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) fail("cannot flush");
  if (::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw IoError(crisp::detail::str_cat(op, ": cannot close '", path, "': ", reason));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw IoError(crisp::detail::str_cat(op, ": cannot rename the temporary file onto '", path, "': ", reason));
  }
}

struct Decoded {
  int64_t width = 0, height = 0, channels = 0;
  bool sixteen_bit = false;      // samples are uint16_t (else uint8_t)
  double max_value = 255;        // the sample value meaning 1.0 (255, 65535 or a PNM maxval)
  std::shared_ptr<void> pixels;  // interleaved samples
};

inline const char* stb_reason() {
  const char* r = sb::crisp_stbi_failure_reason();
  return r ? r : "unknown reason";
}

// Binary PGM / PPM, parsed here (see parse_pnm_header); `want` as stb's req_comp.
inline Decoded decode_pnm(const uint8_t* data, size_t size, int want, const std::string& name, const char* op) {
  const PnmHeader h = parse_pnm_header(data, size);
  if (!h.error.empty()) throw IoError(crisp::detail::str_cat(op, ": cannot decode '", name, "': ", h.error));
  const uint64_t n = h.width * h.height, C = h.channels, out_c = want ? static_cast<uint64_t>(want) : C;
  const bool wide = h.maxval > 255;
  std::shared_ptr<uint16_t> px(new uint16_t[n * out_c], std::default_delete<uint16_t[]>());
  const uint8_t* p = data + h.data_offset;
  auto sample = [&](uint64_t i) -> uint32_t {
    const uint32_t v = wide ? (uint32_t(p[2 * i]) << 8 | p[2 * i + 1]) : p[i];
    return std::min<uint32_t>(v, static_cast<uint32_t>(h.maxval));
  };
  for (uint64_t i = 0; i < n; ++i) {
    if (C == out_c) {
      for (uint64_t c = 0; c < C; ++c) px.get()[i * C + c] = static_cast<uint16_t>(sample(i * C + c));
    } else if (C == 1) {
      for (uint64_t c = 0; c < out_c; ++c) px.get()[i * out_c + c] = static_cast<uint16_t>(sample(i));
    } else {  // RGB -> gray with stb's integer luma
      px.get()[i] = static_cast<uint16_t>((77 * sample(3 * i) + 150 * sample(3 * i + 1) + 29 * sample(3 * i + 2)) >> 8);
    }
  }
  Decoded out;
  out.width = static_cast<int64_t>(h.width);
  out.height = static_cast<int64_t>(h.height);
  out.channels = static_cast<int64_t>(out_c);
  out.sixteen_bit = true;
  out.max_value = static_cast<double>(h.maxval);
  out.pixels = std::static_pointer_cast<void>(px);
  return out;
}

// Channels stored in an encoded image (0 when it cannot be parsed).
inline int stored_channels(const uint8_t* data, size_t size) {
  if (is_binary_pnm(data, size)) return data[1] == '6' ? 3 : 1;
  if (!find_truncation(data, size).empty()) return 0;  // decode() reports it; stb must not see it
  int w = 0, h = 0, c = 0;
  if (size > 0 && size <= static_cast<size_t>(INT32_MAX)) sb::crisp_stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &c);
  return c;
}

// Decodes with `want` channels (0: as stored). `name` names the source in errors.
inline Decoded decode(const uint8_t* data, size_t size, int want, const std::string& name, const char* op) {
  if (size == 0) throw IoError(crisp::detail::str_cat(op, ": '", name, "' is empty, expected an image"));
  if (size > static_cast<size_t>(INT32_MAX))
    throw IoError(crisp::detail::str_cat(op, ": '", name, "' is ", size, " bytes, more than stb_image can decode (2 GiB)"));
  if (is_binary_pnm(data, size)) return decode_pnm(data, size, want, name, op);
  // Before any stb call: stb_info already parses JPEG Huffman tables.
  std::string trunc = find_truncation(data, size);
  if (!trunc.empty()) throw IoError(crisp::detail::str_cat(op, ": cannot decode '", name, "': ", trunc));
  const int len = static_cast<int>(size);
  int w = 0, h = 0, c = 0;
  if (!sb::crisp_stbi_info_from_memory(data, len, &w, &h, &c))
    throw IoError(crisp::detail::str_cat(op, ": cannot decode '", name, "': ", stb_reason(),
                                         " (expected PNG, JPEG, BMP, TGA or binary PGM/PPM)"));
  const bool known_magic = (size >= 2 && ((data[0] == 0xFF && data[1] == 0xD8) || (data[0] == 'B' && data[1] == 'M'))) ||
                           (size >= 8 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G');
  if (!known_magic) trunc = find_tga_truncation(data, size);
  if (!trunc.empty()) throw IoError(crisp::detail::str_cat(op, ": cannot decode '", name, "': ", trunc));

  Decoded out;
  out.sixteen_bit = sb::crisp_stbi_is_16_bit_from_memory(data, len) != 0;
  out.max_value = out.sixteen_bit ? 65535 : 255;
  int got = 0;
  void* px = out.sixteen_bit ? static_cast<void*>(sb::crisp_stbi_load_16_from_memory(data, len, &w, &h, &got, want))
                             : static_cast<void*>(sb::crisp_stbi_load_from_memory(data, len, &w, &h, &got, want));
  if (!px) throw IoError(crisp::detail::str_cat(op, ": cannot decode '", name, "': ", stb_reason()));
  out.pixels = std::shared_ptr<void>(px, [](void* p) { sb::crisp_stbi_image_free(p); });
  out.width = w;
  out.height = h;
  out.channels = want ? want : got;
  return out;
}

inline int channels_for(ImageMode mode, int stored) {
  switch (mode) {
    case ImageMode::Gray: return 1;
    case ImageMode::RGB: return 3;
    case ImageMode::Auto: break;
  }
  return stored <= 2 ? 1 : 3;
}

inline Tensor<float> to_chw(const Decoded& d) {
  const int64_t C = d.channels, H = d.height, W = d.width, HW = H * W;
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  float* out = t.data();
  const auto scale = static_cast<float>(d.max_value);
  if (d.sixteen_bit) {
    const auto* p = static_cast<const uint16_t*>(d.pixels.get());
    for (int64_t i = 0; i < HW; ++i)
      for (int64_t c = 0; c < C; ++c) out[c * HW + i] = static_cast<float>(p[i * C + c]) / scale;
  } else {
    const auto* p = static_cast<const uint8_t*>(d.pixels.get());
    for (int64_t i = 0; i < HW; ++i)
      for (int64_t c = 0; c < C; ++c) out[c * HW + i] = static_cast<float>(p[i * C + c]) / scale;
  }
  return t;
}

// Interleaved 8-bit samples of a [C, H, W] or [H, W] float tensor (any strides), clamped, rounded.
struct Interleaved {
  std::vector<uint8_t> bytes;
  int width = 0, height = 0, channels = 0;
};

inline Interleaved interleave(const Tensor<float>& img, const char* op, bool allow_alpha) {
  CRISP_CHECK(img.defined(), ValueError, op, "expected an image tensor, got an undefined tensor");
  CRISP_CHECK(img.dim() == 2 || img.dim() == 3, ShapeError, op, "expected a [C, H, W] or [H, W] image, got shape ",
              img.shape());
  const bool chw = img.dim() == 3;
  const int64_t C = chw ? img.size(0) : 1, H = img.size(-2), W = img.size(-1);
  CRISP_CHECK(C == 1 || C == 3 || (allow_alpha && C == 4), ShapeError, op, "expected 1 or 3",
              allow_alpha ? " or 4" : "", " channels, got shape ", img.shape());
  CRISP_CHECK(H > 0 && W > 0 && H <= 65535 && W <= 65535, ShapeError, op,
              "expected height and width in [1, 65535], got shape ", img.shape());
  Interleaved out;
  out.width = static_cast<int>(W);
  out.height = static_cast<int>(H);
  out.channels = static_cast<int>(C);
  out.bytes.resize(static_cast<size_t>(C * H * W));
  const float* base = img.data();
  const int64_t sc = chw ? img.stride(0) : 0, sh = img.stride(-2), sw = img.stride(-1);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int64_t c = 0; c < C; ++c) {
        const float v = base[c * sc + y * sh + x * sw];
        CRISP_CHECK(!std::isnan(v), ValueError, op, "expected finite pixel values, got NaN at channel ", c, ", row ", y,
                    ", column ", x);
        const float cl = std::clamp(v, 0.0f, 1.0f);
        out.bytes[static_cast<size_t>((y * W + x) * C + c)] = static_cast<uint8_t>(std::lround(cl * 255.0f));
      }
  return out;
}

inline void append_bytes(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  v->insert(v->end(), p, p + size);
}

inline std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext;
}

}  // namespace detail

// Decodes an encoded image held in memory; `name` identifies it in error messages.
inline Tensor<float> decode_image(const uint8_t* data, size_t size, ImageMode mode = ImageMode::Auto,
                                  const std::string& name = "<memory>") {
  const int want = detail::channels_for(mode, detail::stored_channels(data, size));
  return detail::to_chw(detail::decode(data, size, want, name, "decode_image"));
}
inline Tensor<float> decode_image(const std::vector<uint8_t>& bytes, ImageMode mode = ImageMode::Auto,
                                  const std::string& name = "<memory>") {
  return decode_image(bytes.data(), bytes.size(), mode, name);
}

// Loads an image file as float [C, H, W] in [0, 1] (see the conventions above).
inline Tensor<float> load_image(const std::string& path, ImageMode mode = ImageMode::Auto) {
  const std::vector<uint8_t> bytes = detail::read_file(path, "load_image");
  const int want = detail::channels_for(mode, detail::stored_channels(bytes.data(), bytes.size()));
  return detail::to_chw(detail::decode(bytes.data(), bytes.size(), want, path, "load_image"));
}

// Loads a label map (one class id per pixel) as int64 [H, W].
inline Tensor<int64_t> load_label_map(const std::string& path) {
  const std::vector<uint8_t> bytes = detail::read_file(path, "load_label_map");
  const detail::Decoded d = detail::decode(bytes.data(), bytes.size(), 0, path, "load_label_map");
  const int64_t H = d.height, W = d.width, C = d.channels, HW = H * W;
  Tensor<int64_t> t = Tensor<int64_t>::empty(Shape{H, W});
  int64_t* out = t.data();
  auto sample = [&](int64_t i) -> int64_t {
    return d.sixteen_bit ? static_cast<const uint16_t*>(d.pixels.get())[i]
                         : static_cast<const uint8_t*>(d.pixels.get())[i];
  };
  // Gray (+ alpha): the gray value. RGB (+ alpha): only when R = G = B.
  const int64_t colours = C <= 2 ? 1 : 3;
  for (int64_t i = 0; i < HW; ++i) {
    const int64_t v = sample(i * C);
    for (int64_t c = 1; c < colours; ++c)
      if (sample(i * C + c) != v)
        throw IoError(crisp::detail::str_cat("load_label_map: '", path,
                                             "' expected a single-channel label map (class ids as gray values), got a "
                                             "colour image (pixel ", i % W, ", ", i / W,
                                             " has R != G or B; palette PNGs are not supported)"));
    out[i] = v;
  }
  return t;
}

// Encodes as PNG (1, 3 or 4 channels; [H, W] is gray).
inline std::vector<uint8_t> encode_png(const Tensor<float>& img) {
  const detail::Interleaved px = detail::interleave(img, "encode_png", true);
  std::vector<uint8_t> out;
  if (!detail::sb::crisp_stbi_write_png_to_func(detail::append_bytes, &out, px.width, px.height, px.channels,
                                               px.bytes.data(), px.width * px.channels))
    throw IoError("encode_png: stb_image_write failed to encode the image");
  return out;
}

// Encodes as baseline JPEG; quality in [1, 100] (1 or 3 channels).
inline std::vector<uint8_t> encode_jpeg(const Tensor<float>& img, int quality = 95) {
  CRISP_CHECK(quality >= 1 && quality <= 100, ValueError, "encode_jpeg", "expected quality in [1, 100], got ", quality);
  const detail::Interleaved px = detail::interleave(img, "encode_jpeg", false);
  std::vector<uint8_t> out;
  if (!detail::sb::crisp_stbi_write_jpg_to_func(detail::append_bytes, &out, px.width, px.height, px.channels,
                                               px.bytes.data(), quality))
    throw IoError("encode_jpeg: stb_image_write failed to encode the image");
  return out;
}

// Writes `img` ([C, H, W] or [H, W], values clamped to [0, 1]) in the format named by the path's
// extension: .png, .jpg / .jpeg (with `quality`), .bmp or .tga.
inline void save_image(const Tensor<float>& img, const std::string& path, int quality = 95) {
  const std::string ext = detail::lower_extension(path);
  std::vector<uint8_t> bytes;
  if (ext == "png") {
    bytes = encode_png(img);
  } else if (ext == "jpg" || ext == "jpeg") {
    CRISP_CHECK(quality >= 1 && quality <= 100, ValueError, "save_image", "expected quality in [1, 100], got ", quality);
    bytes = encode_jpeg(img, quality);
  } else if (ext == "bmp" || ext == "tga") {
    const detail::Interleaved px = detail::interleave(img, "save_image", true);
    const int ok = ext == "bmp" ? detail::sb::crisp_stbi_write_bmp_to_func(detail::append_bytes, &bytes, px.width,
                                                                          px.height, px.channels, px.bytes.data())
                                : detail::sb::crisp_stbi_write_tga_to_func(detail::append_bytes, &bytes, px.width,
                                                                          px.height, px.channels, px.bytes.data());
    if (!ok) throw IoError(crisp::detail::str_cat("save_image: stb_image_write failed to encode '", path, "'"));
  } else {
    throw ValueError(crisp::detail::str_cat("save_image: expected a path ending in .png, .jpg, .jpeg, .bmp or .tga, got '",
                                            path, "'"));
  }
  detail::write_file_atomic(path, bytes, "save_image");
}

// Writes a label map (int64 [H, W], ids in [0, 255]) as an 8-bit gray PNG.
inline void save_label_map(const Tensor<int64_t>& labels, const std::string& path) {
  CRISP_CHECK(labels.defined() && labels.dim() == 2, ShapeError, "save_label_map", "expected an [H, W] label map, got ",
              labels.defined() ? labels.shape() : Shape{});
  const int64_t H = labels.size(0), W = labels.size(1);
  CRISP_CHECK(H > 0 && W > 0 && H <= 65535 && W <= 65535, ShapeError, "save_label_map",
              "expected height and width in [1, 65535], got shape ", labels.shape());
  std::vector<uint8_t> px(static_cast<size_t>(H * W));
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t v = labels.data()[y * labels.stride(0) + x * labels.stride(1)];
      CRISP_CHECK(v >= 0 && v <= 255, ValueError, "save_label_map", "expected class ids in [0, 255], got ", v,
                  " at row ", y, ", column ", x);
      px[static_cast<size_t>(y * W + x)] = static_cast<uint8_t>(v);
    }
  std::vector<uint8_t> bytes;
  if (!detail::sb::crisp_stbi_write_png_to_func(detail::append_bytes, &bytes, static_cast<int>(W), static_cast<int>(H), 1,
                                               px.data(), static_cast<int>(W)))
    throw IoError(crisp::detail::str_cat("save_label_map: stb_image_write failed to encode '", path, "'"));
  detail::write_file_atomic(path, bytes, "save_label_map");
}

}  // namespace crisp::data
