// A terminal progress bar for training and data programs: done/total, rate and ETA on one
// redrawn line of std::cerr, or periodic plain lines when the stream is not a terminal (logs, CI).
#pragma once

// Redraws are throttled (ProgressOptions::redraw_s) so a tight loop pays for a clock read, not
// for terminal IO; plain-line mode prints at most every line_s seconds plus a final line. The
// rate is the mean over the whole run (steady for data jobs, honest for ETA). update() may be
// called from several threads: a mutex guards the state and the stream.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

namespace crisp::train {

enum class ProgressStyle { Auto, Bar, Lines };

struct ProgressOptions {
  std::string label;                          // printed before the bar, e.g. "blurring"
  std::string unit = "it";                    // rate unit: "12.3 it/s"
  ProgressStyle style = ProgressStyle::Auto;  // Auto: Bar when std::cerr is a terminal
  int width = 30;                             // bar cells
  double redraw_s = 0.1;                      // minimum time between redraws of the bar
  double line_s = 5.0;                        // minimum time between plain lines
};

// "1:02:03", "4:05" or "7s" style durations for rates and ETAs ("?" when not finite).
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[48];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

// The text of one progress line (no newline or carriage return): pure, so tests can check it.
// total <= 0 means unknown: no bar, percentage or ETA.
inline std::string format_progress(const std::string& label, int64_t done, int64_t total, double elapsed_s,
                                   int width, bool bar, const std::string& unit = "it",
                                   const std::string& postfix = "") {
  std::string out = label.empty() ? "" : label + " ";
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  char buf[128];
  if (total > 0) {
    const double frac = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
    if (bar && width > 0) {
      const int full = static_cast<int>(frac * width);
      out += '[';
      out.append(static_cast<size_t>(full), '#');
      out.append(static_cast<size_t>(width - full), '.');
      out += "] ";
    }
    std::snprintf(buf, sizeof buf, "%3d%% %lld/%lld", static_cast<int>(frac * 100), static_cast<long long>(done),
                  static_cast<long long>(total));
    out += buf;
  } else {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(done));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, " | %.1f %s/s | %s elapsed", rate, unit.c_str(), format_duration(elapsed_s).c_str());
  out += buf;
  if (total > 0) {
    const double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : INFINITY;
    out += " | ETA " + (done >= total ? std::string("0s") : format_duration(eta));
  }
  if (!postfix.empty()) out += " | " + postfix;
  return out;
}

class ProgressBar {
 public:
  explicit ProgressBar(int64_t total, ProgressOptions opts = {})
      : total_(total), opts_(std::move(opts)), start_(Clock::now()), last_draw_(start_) {
    bar_ = opts_.style == ProgressStyle::Bar || (opts_.style == ProgressStyle::Auto && ::isatty(STDERR_FILENO) == 1);
    std::lock_guard<std::mutex> lock(m_);
    draw(true);
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { finish(); }

  // Advances by n steps (redraws when the throttle allows).
  void update(int64_t n = 1) {
    std::lock_guard<std::mutex> lock(m_);
    done_ += n;
    draw(false);
  }
  // Text appended to the line (a loss, the current file); shown at the next redraw.
  void set_postfix(std::string text) {
    std::lock_guard<std::mutex> lock(m_);
    postfix_ = std::move(text);
  }
  int64_t done() const {
    std::lock_guard<std::mutex> lock(m_);
    return done_;
  }
  double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Draws the final state and ends the line; later calls do nothing.
  void finish() {
    std::lock_guard<std::mutex> lock(m_);
    if (finished_) return;
    finished_ = true;
    draw(true);
    if (bar_) std::cerr << '\n';
    std::cerr.flush();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void draw(bool force) {
    if (finished_ && !force) return;
    const auto now = Clock::now();
    const double since = std::chrono::duration<double>(now - last_draw_).count();
    const bool complete = total_ > 0 && done_ >= total_;
    if (!force && !(complete && !drew_complete_) && since < (bar_ ? opts_.redraw_s : opts_.line_s)) return;
    if (!bar_ && force && !finished_ && done_ == 0 && drew_any_) return;
    if (!bar_ && drew_complete_ && complete) return;  // the final line is printed once
    last_draw_ = now;
    drew_any_ = true;
    drew_complete_ = drew_complete_ || complete;
    const std::string line = format_progress(opts_.label, done_, total_,
                                             std::chrono::duration<double>(now - start_).count(), opts_.width, bar_,
                                             opts_.unit, postfix_);
    if (bar_) {
      // Pad over the previous line's tail so a shorter line leaves no stale characters.
      std::cerr << '\r' << line << std::string(line.size() < last_len_ ? last_len_ - line.size() : 0, ' ');
      last_len_ = line.size();
    } else {
      std::cerr << line << '\n';
    }
    std::cerr.flush();
  }

  int64_t total_, done_ = 0;
  ProgressOptions opts_;
  Clock::time_point start_, last_draw_;
  std::string postfix_;
  size_t last_len_ = 0;
  bool bar_ = false, finished_ = false, drew_any_ = false, drew_complete_ = false;
  mutable std::mutex m_;
};

}  // namespace crisp::train
