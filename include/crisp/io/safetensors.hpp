// Reading and writing the safetensors format (https://github.com/huggingface/safetensors): named
// tensors plus string metadata, with a reader hardened against malformed or hostile files.
#pragma once

// Format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
// then the byte buffer; data_offsets are relative to the buffer start.
//
// Writing: float tensors as F32, double as F64, int64_t as I64; "__metadata__" first, then the
// tensors by name, data packed in that order, header padded with spaces to a multiple of 8 bytes
// (as the reference implementation does). Atomic: a temporary file in the same directory is
// written, fsync'ed and renamed over `path`; on failure `path` is untouched and no temporary is left.
//
// Reading: F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL are read and converted
// to T (F8 types are refused as unsupported). Into an int64_t tensor, floating values are truncated
// toward zero and non-finite or out-of-range values are refused; into a float tensor, F64 values
// beyond the float range become +-inf. Every defect throws crisp::IoError naming the function, the
// file and the defect. Policy where the format leaves room, following the reference implementation:
//  - header length above 100,000,000 bytes is refused as absurd;
//  - data ranges must tile the byte buffer exactly: overlaps, gaps and trailing bytes are refused;
//  - duplicate keys (at any level of the JSON) are refused (nlohmann would keep the last silently);
//  - unknown fields inside a tensor entry are ignored; "__metadata__": null means no metadata;
//  - JSON nesting deeper than 16 levels and shapes with more than 8 dims are refused.
// Sizes are checked against the file size before anything is allocated. Little-endian hosts only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "crisp/backend/cpu/elementwise.hpp"
#include "crisp/io/safetensors_format.hpp"
#include "crisp/ops/to_device.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::io {

template <class T = float>
using TensorMap = std::map<std::string, Tensor<T>>;

template <class T = float>
struct SafetensorsContents {
  std::map<std::string, Tensor<T>> tensors;
  std::map<std::string, std::string> metadata;
};

namespace detail {

// A byte source: a buffer in memory or an open file read with pread.
class StSource {
 public:
  StSource(const uint8_t* data, uint64_t size) : mem_(data), size_(size) {}
  StSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const { return size_; }
  // Pointer to [offset, offset + len) when in memory, else nullptr.
  const uint8_t* direct(uint64_t offset) const { return mem_ ? mem_ + offset : nullptr; }
  void read(const StContext& ctx, uint64_t offset, uint64_t len, void* dst) const {
    if (len == 0) return;
    if (mem_) {
      std::memcpy(dst, mem_ + offset, len);
      return;
    }
    auto* out = static_cast<uint8_t*>(dst);
    while (len > 0) {
      const ssize_t r = ::pread(fd_, out, len, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) ctx.fail("read failed at offset ", offset, ": ", std::strerror(errno));
      if (r == 0) ctx.fail("unexpected end of file at offset ", offset, " (file changed while reading?)");
      out += r;
      offset += static_cast<uint64_t>(r);
      len -= static_cast<uint64_t>(r);
    }
  }

 private:
  const uint8_t* mem_ = nullptr;
  int fd_ = -1;
  uint64_t size_ = 0;
};

inline StHeader read_header(const StContext& ctx, const StSource& src) {
  uint8_t prefix[8] = {};
  if (src.size() >= 8) src.read(ctx, 0, 8, prefix);
  const uint64_t n = check_prefix(ctx, prefix, src.size() >= 8 ? 8 : 0, src.size());
  std::vector<char> text;
  const char* p = nullptr;
  if (const uint8_t* d = src.direct(8)) {
    p = reinterpret_cast<const char*>(d);
  } else {
    text.resize(n);
    src.read(ctx, 8, n, text.data());
    p = text.data();
  }
  StHeader h = parse_header(ctx, p, n, src.size() - 8 - n);
  h.data_start = 8 + n;
  return h;
}

template <class T>
bool is_native(StDtype d) {
  if constexpr (std::is_same_v<T, float>) return d == StDtype::F32;
  else if constexpr (std::is_same_v<T, double>) return d == StDtype::F64;
  else return d == StDtype::I64;
}

template <class T>
SafetensorsContents<T> read_contents(const StContext& ctx, const StSource& src, bool with_tensors) {
  StHeader h = read_header(ctx, src);
  SafetensorsContents<T> out;
  out.metadata = std::move(h.metadata);
  if (!with_tensors) return out;
  std::vector<uint8_t> scratch;
  for (const StEntry& e : h.entries) {
    Tensor<T> t = Tensor<T>::empty(e.shape);
    const uint64_t off = h.data_start + e.begin, len = e.end - e.begin;
    if (is_native<T>(e.dtype)) {
      src.read(ctx, off, len, t.data());
    } else {
      const uint8_t* bytes = src.direct(off);
      if (!bytes) {
        scratch.resize(len);
        src.read(ctx, off, len, scratch.data());
        bytes = scratch.data();
      }
      convert_elements<T>(ctx, e, bytes, t.numel(), t.data());
    }
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// Opens `path` and runs `fn(source)`; closes the file on every path out.
template <class F>
auto with_file(const StContext& ctx, const std::string& path, F fn) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
  if (fd < 0) ctx.fail("cannot open file: ", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) ctx.fail("cannot stat file: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) ctx.fail("not a regular file");
  return fn(StSource(fd, static_cast<uint64_t>(st.st_size)));
}

inline void write_all(const StContext& ctx, int fd, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    const ssize_t w = ::write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) ctx.fail("write failed: ", std::strerror(errno));
    p += w;
    len -= static_cast<size_t>(w);
  }
}

inline std::string json_string(const std::string& s, const char* what) {
  try {
    return nlohmann::json(s).dump();
  } catch (const nlohmann::json::exception&) {
    throw ValueError(crisp::detail::str_cat("save_safetensors: ", what, " '", clip(s), "' is not valid UTF-8"));
  }
}

}  // namespace detail

// Parses a safetensors file held in memory; `name` stands for the file in error messages.
template <class T = float>
SafetensorsContents<T> parse_safetensors(const uint8_t* data, size_t size, const std::string& name) {
  const detail::StContext ctx{"parse_safetensors", name};
  if (data == nullptr && size != 0) ctx.fail("null buffer of ", size, " bytes");
  static const uint8_t kEmpty[1] = {0};
  return detail::read_contents<T>(ctx, detail::StSource(data ? data : kEmpty, size), true);
}

// Tensors and metadata of the file at `path`.
template <class T = float>
SafetensorsContents<T> read_safetensors(const std::string& path) {
  const detail::StContext ctx{"read_safetensors", path};
  return detail::with_file(ctx, path, [&](const detail::StSource& s) { return detail::read_contents<T>(ctx, s, true); });
}

// The tensors of the file at `path`, converted to T.
template <class T = float>
std::map<std::string, Tensor<T>> load_safetensors(const std::string& path) {
  const detail::StContext ctx{"load_safetensors", path};
  return detail::with_file(ctx, path, [&](const detail::StSource& s) {
    return detail::read_contents<T>(ctx, s, true).tensors;
  });
}

// The "__metadata__" of the file at `path` (empty when absent). The whole header is validated;
// tensor data is not read.
inline std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  const detail::StContext ctx{"load_safetensors_metadata", path};
  return detail::with_file(ctx, path, [&](const detail::StSource& s) {
    return detail::read_contents<float>(ctx, s, false).metadata;
  });
}

// Writes `tensors` (any strides; CPU) and `metadata` to `path` atomically. Throws ValueError for a
// tensor named "__metadata__", an undefined tensor or a name that is not valid UTF-8, and IoError
// when the file cannot be written.
template <class T>
void save_safetensors(const std::string& path, const std::map<std::string, Tensor<T>>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  const detail::StContext ctx{"save_safetensors", path};
  // 1. Contiguous data and the header, before touching the file system.
  std::vector<Tensor<T>> data;
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      header += detail::json_string(k, "metadata key");
      header += ':';
      header += detail::json_string(v, "metadata value");
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    CRISP_CHECK(name != "__metadata__", ValueError, "save_safetensors",
                "a tensor cannot be named \"__metadata__\" (reserved for the metadata)");
    CRISP_CHECK(t.defined(), ValueError, "save_safetensors", "tensor '", name, "' is undefined");
    // A device tensor is written from a host copy; a strided one from a contiguous copy.
    Tensor<T> c = t.device().is_cpu() ? t : t.to(Device::cpu());
    if (!c.is_contiguous()) c = cpu::map<T>(c.shape(), [](T v) { return v; }, c);
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * sizeof(T);
    if (header.size() > 1) header += ",";
    header += detail::json_string(name, "tensor name") + ":{\"dtype\":\"" + detail::dtype_name_of<T>() +
              "\",\"shape\":[";
    for (int64_t i = 0; i < c.dim(); ++i) {
      if (i) header += ',';
      header += std::to_string(c.shape()[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    data.push_back(std::move(c));
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  // 2. Temporary file next to `path`, removed unless renamed into place.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) ctx.fail("cannot create temporary file '", tmp, "': ", std::strerror(errno));
  struct Guard {
    const std::string& tmp;
    int fd;
    bool done = false;
    ~Guard() {
      if (fd >= 0) ::close(fd);
      if (!done) ::unlink(tmp.c_str());
    }
  } guard{tmp, fd};
  const uint64_t n = header.size();
  detail::write_all(ctx, fd, &n, 8);
  detail::write_all(ctx, fd, header.data(), header.size());
  for (const Tensor<T>& c : data) detail::write_all(ctx, fd, c.data(), static_cast<size_t>(c.numel()) * sizeof(T));
  if (::fsync(fd) != 0) ctx.fail("fsync failed: ", std::strerror(errno));
  guard.fd = -1;
  if (::close(fd) != 0) ctx.fail("close failed: ", std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    ctx.fail("cannot rename '", tmp, "' into place: ", std::strerror(errno));
  guard.done = true;
  // Make the rename durable; failure here leaves a valid file, so it is not an error.
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace crisp::io
