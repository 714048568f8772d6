// Completeness checks that stb_image does not make: it decodes a truncated JPEG, BMP, PNM or TGA
// without complaint (missing bytes read as zeros), so image_io rejects such files here first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace crisp::data::detail {

inline uint32_t read_le16(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
inline uint32_t read_le32(const uint8_t* p) { return read_le16(p) | read_le16(p + 2) << 16; }
inline std::string find_jpeg_defect(const uint8_t* d, size_t n);

// Returns an empty string when the encoded image holds all the bytes its header promises, else
// a description of what is missing. Formats not covered (PNG: stb checks its chunk CRC-free
// structure and zlib stream itself; RLE-compressed BMP/TGA) return "".
inline std::string find_truncation(const uint8_t* d, size_t n) {
  // JPEG: the entropy-coded data of the last scan must be followed by an end-of-image marker.
  // 0xFF bytes inside entropy-coded data are stuffed (FF 00), so FF DA / FF D9 only occur as
  // markers; an EXIF thumbnail's markers come before the main image's last scan.
  if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) {
    size_t last_sos = 0;
    for (size_t i = 2; i + 1 < n; ++i)
      if (d[i] == 0xFF && d[i + 1] == 0xDA) last_sos = i;
    if (last_sos == 0) return "JPEG without a start-of-scan marker";
    bool eoi = false;
    for (size_t i = last_sos + 2; i + 1 < n && !eoi; ++i) eoi = d[i] == 0xFF && d[i + 1] == 0xD9;
    if (!eoi) return "JPEG truncated (no end-of-image marker after the last scan)";
    return find_jpeg_defect(d, n);
  }
  // BMP, uncompressed (BI_RGB = 0, BI_BITFIELDS = 3): the pixel array must fit in the file.
  if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
    const uint64_t off = read_le32(d + 10), hsize = read_le32(d + 14);
    int64_t w = 0, h = 0;
    uint32_t bpp = 0, compression = 0;
    if (hsize == 12) {
      w = read_le16(d + 18);
      h = read_le16(d + 20);
      bpp = read_le16(d + 24);
    } else if (hsize >= 40 && n >= 34) {
      w = static_cast<int32_t>(read_le32(d + 18));
      h = static_cast<int32_t>(read_le32(d + 22));
      bpp = read_le16(d + 28);
      compression = read_le32(d + 30);
    } else {
      return "";
    }
    if (compression != 0 && compression != 3) return "";
    if (w < 0) w = -w;
    if (h < 0) h = -h;
    const uint64_t row = (uint64_t(bpp) * uint64_t(w) + 31) / 32 * 4;
    const uint64_t need = off + row * uint64_t(h);
    if (need > n) return "BMP truncated: header promises " + std::to_string(need) + " bytes, file has " + std::to_string(n);
    return "";
  }
  return "";
}

// JPEG marker segments, walked before stb sees them: stb 2.27 builds Huffman tables whose code
// counts sum past 256 into fixed 257-byte arrays (a heap overflow, CVE-2021-37789, fixed in stb
// 2.28), so such tables are refused here. Returns "" or the defect.
inline std::string find_jpeg_defect(const uint8_t* d, size_t n) {
  size_t i = 2;
  while (i + 1 < n) {
    if (d[i] != 0xFF) {  // not at a marker: stb scans forward byte by byte, and so do we
      ++i;
      continue;
    }
    const uint8_t m = d[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0xD9) return "";
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // markers without a length
      i += 2;
      continue;
    }
    if (i + 4 > n) return "";
    const size_t len = size_t(d[i + 2]) << 8 | d[i + 3];
    if (len < 2) return "";
    if (m == 0xC4) {  // stb parses the tables even when the length runs past the data
      size_t p = i + 4;
      const size_t end = std::min(i + 2 + len, n);
      while (p + 17 <= end) {
        size_t codes = 0;
        for (size_t k = 1; k <= 16; ++k) codes += d[p + k];
        if (codes > 256)
          return "corrupt JPEG: a Huffman table declares " + std::to_string(codes) + " codes (at most 256)";
        p += 17 + codes;
      }
    }
    if (i + 2 + len > n) return "";
    i += 2 + len;
    if (m == 0xDA)  // skip the entropy-coded data up to the next marker (FF 00 and RSTn are data)
      while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0x00 && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7))) ++i;
  }
  return "";
}

// TGA has no magic number; stb recognises it by its header. Checked only after stb has accepted
// the file: types 1, 2, 3 (uncompressed) by size, types 9, 10, 11 (run-length) by walking the
// packets until width * height pixels are covered.
inline std::string find_tga_truncation(const uint8_t* d, size_t n) {
  if (n < 18) return "TGA header truncated";
  const uint32_t id_len = d[0], cmap_type = d[1], type = d[2];
  if (type != 1 && type != 2 && type != 3 && type != 9 && type != 10 && type != 11) return "";
  const uint64_t cmap_len = cmap_type ? read_le16(d + 5) : 0, cmap_bytes = (uint64_t(d[7]) + 7) / 8;
  const uint64_t w = read_le16(d + 12), h = read_le16(d + 14), px = (uint64_t(d[16]) + 7) / 8;
  const uint64_t start = 18 + id_len + cmap_len * cmap_bytes;
  if (type < 9) {
    const uint64_t need = start + w * h * px;
    if (need > n) return "TGA truncated: header promises " + std::to_string(need) + " bytes, file has " + std::to_string(n);
    return "";
  }
  uint64_t pos = start, covered = 0;
  while (covered < w * h) {
    if (pos >= n) return "run-length TGA truncated after " + std::to_string(covered) + " of " + std::to_string(w * h) + " pixels";
    const uint8_t head = d[pos++];
    const uint64_t count = uint64_t(head & 0x7F) + 1;
    pos += (head & 0x80) ? px : count * px;
    covered += count;
  }
  if (pos > n) return "run-length TGA truncated in its last packet";
  return "";
}

// Binary PNM (P5 gray / P6 RGB, maxval up to 65535, samples big-endian when maxval > 255), which
// stb 2.27 decodes without scaling by maxval and with 16-bit samples byte-swapped; parsed here.
struct PnmHeader {
  uint64_t width = 0, height = 0, maxval = 0, channels = 0, data_offset = 0;
  std::string error;
};
inline bool is_binary_pnm(const uint8_t* d, size_t n) { return n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6'); }
inline PnmHeader parse_pnm_header(const uint8_t* d, size_t n) {
  PnmHeader h;
  size_t i = 2;
  uint64_t v[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    for (;;) {  // whitespace and comments
      while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r' || d[i] == '\v' || d[i] == '\f')) ++i;
      if (i < n && d[i] == '#') {
        while (i < n && d[i] != '\n' && d[i] != '\r') ++i;
        continue;
      }
      break;
    }
    if (i >= n || d[i] < '0' || d[i] > '9') {
      h.error = "PNM header truncated or malformed";
      return h;
    }
    while (i < n && d[i] >= '0' && d[i] <= '9' && v[k] < (uint64_t(1) << 40)) v[k] = v[k] * 10 + (d[i++] - '0');
  }
  h.width = v[0], h.height = v[1], h.maxval = v[2], h.channels = d[1] == '6' ? 3 : 1;
  h.data_offset = i + 1;  // one whitespace byte after maxval
  if (h.width == 0 || h.height == 0 || h.width > 65536 || h.height > 65536)
    h.error = "PNM size " + std::to_string(h.width) + "x" + std::to_string(h.height) + " out of range [1, 65536]";
  else if (h.maxval == 0 || h.maxval > 65535)
    h.error = "PNM maxval " + std::to_string(h.maxval) + " out of range [1, 65535]";
  else {
    const uint64_t need = h.data_offset + h.width * h.height * h.channels * (h.maxval > 255 ? 2 : 1);
    if (need > n) h.error = "PNM truncated: header promises " + std::to_string(need) + " bytes, file has " + std::to_string(n);
  }
  return h;
}

}  // namespace crisp::data::detail
