// What a training run writes besides checkpoints: the CSV log of its loss terms and the PNG
// sample grids (inputs | outputs | targets, one row per sample) that show how it is going.
#pragma once

// CsvLog: "step,time_s,<term>,..." rows, flushed as written so a crash or Ctrl-C leaves a
// complete file. Reopened for a resumed run (resume_step >= 0) it keeps the header (which must
// name the same terms) and the rows up to the resumed step, dropping rows of steps the
// checkpoint never saw, so the log of a resumed run reads like one uninterrupted run.
// save_sample_grid: columns = tensors [N, C, H, W] (or one [C, H, W]) with C in {1, 3}; row i of
// the grid is sample i of every column, left to right; values are mapped from [lo, hi] to [0, 1].
#include <crisp/data/image_io.hpp>
#include <crisp/io/safetensors.hpp>
#include <crisp/ops/view.hpp>
#include <crisp/tensor/error.hpp>
#include <crisp/train/image_grid.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crisp::examples {

class CsvLog {
 public:
  CsvLog() = default;
  // Starts `path` afresh (resume_step < 0) or continues it after `resume_step` (see above).
  CsvLog(std::string path, std::vector<std::string> terms, int64_t resume_step = -1)
      : path_(std::move(path)), terms_(std::move(terms)) {
    CRISP_CHECK(!terms_.empty(), ValueError, "CsvLog", "expected at least one loss term name, got none");
    for (const auto& t : terms_)
      CRISP_CHECK(!t.empty() && t.find_first_of(",\n\"") == std::string::npos, ValueError, "CsvLog",
                  "expected term names without commas, quotes or newlines, got '", t, "'");
    const std::string header = header_line();
    std::vector<std::string> kept;
    if (resume_step >= 0 && std::filesystem::exists(path_)) {
      std::ifstream in(path_);
      std::string line;
      std::getline(in, line);
      CRISP_CHECK(line == header, ValueError, "CsvLog", "'", path_, "' has the columns '", line,
                  "', this run logs '", header, "' (resume the run with the program that started it)");
      while (std::getline(in, line)) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) continue;
        try {
          if (std::stoll(line.substr(0, comma)) <= resume_step) kept.push_back(line);
        } catch (const std::exception&) {  // a torn last line from a crash: drop it
        }
      }
    }
    const auto dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    out_.open(path_, std::ios::trunc);
    CRISP_CHECK(out_.good(), IoError, "CsvLog", "cannot open '", path_, "' for writing");
    out_ << header << '\n';
    for (const auto& l : kept) out_ << l << '\n';
    out_.flush();
  }

  // One row: the step (completed steps so far), elapsed seconds, one value per term.
  void write(int64_t step, double time_s, const std::vector<double>& values) {
    CRISP_CHECK(values.size() == terms_.size(), ValueError, "CsvLog", "expected ", terms_.size(),
                " values (", header_line(), "), got ", values.size());
    char buf[64];
    out_ << step;
    std::snprintf(buf, sizeof buf, ",%.3f", time_s);
    out_ << buf;
    for (double v : values) {
      std::snprintf(buf, sizeof buf, ",%.7g", v);
      out_ << buf;
    }
    out_ << '\n';
    out_.flush();
  }

  const std::vector<std::string>& terms() const { return terms_; }
  const std::string& path() const { return path_; }

 private:
  std::string header_line() const {
    std::string h = "step,time_s";
    for (const auto& t : terms_) h += "," + t;
    return h;
  }
  std::string path_;
  std::vector<std::string> terms_;
  std::ofstream out_;
};

namespace detail {
// Sample i of a [N, C, H, W] batch (or the [C, H, W] image itself), detached, mapped to [0, 1].
inline Tensor<float> sample_image(const Tensor<float>& t, int64_t i, float lo, float hi) {
  Tensor<float> img = (t.dim() == 4 ? t.select(0, i) : t).detach().contiguous();
  Tensor<float> out = Tensor<float>::empty(img.shape());
  const float scale = 1.f / (hi - lo);
  for (int64_t k = 0; k < img.numel(); ++k) out.data()[k] = std::clamp((img.data()[k] - lo) * scale, 0.f, 1.f);
  return out;
}
}  // namespace detail

// Writes the grid of up to `max_rows` samples (see above) as a PNG at `path` (atomically).
inline void save_sample_grid(const std::string& path, const std::vector<Tensor<float>>& columns,
                             int64_t max_rows = 4, float lo = 0.f, float hi = 1.f) {
  const char* op = "save_sample_grid";
  CRISP_CHECK(!columns.empty(), ValueError, op, "expected at least one column, got none");
  CRISP_CHECK(hi > lo, ValueError, op, "expected hi > lo, got [", lo, ", ", hi, "]");
  int64_t n = -1;
  for (size_t j = 0; j < columns.size(); ++j) {
    const Tensor<float>& c = columns[j];
    CRISP_CHECK(c.defined() && (c.dim() == 3 || c.dim() == 4), ShapeError, op,
                "expected [N, C, H, W] or [C, H, W] columns, column ", j, " has shape ",
                c.defined() ? c.shape() : Shape{});
    const int64_t cn = c.dim() == 4 ? c.size(0) : 1;
    n = n < 0 ? cn : std::min(n, cn);
  }
  const int64_t rows = std::min(n, std::max<int64_t>(1, max_rows));
  std::vector<Tensor<float>> cells;
  for (int64_t i = 0; i < rows; ++i)
    for (const auto& c : columns) cells.push_back(detail::sample_image(c, i, lo, hi));
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  data::save_image(train::make_grid(cells, {static_cast<int64_t>(columns.size()), 2, 1.f}), path);
}

// "step_0001234": names that sort in step order.
inline std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%07lld", static_cast<long long>(step));
  return buf;
}

}  // namespace crisp::examples
