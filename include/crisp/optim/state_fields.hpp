// optim::FieldIO: saves, checks or loads the small values of optimiser options and scheduler
// state as exact decimal strings (a checkpoint's "__metadata__"), with one code path per class.
#pragma once

// A class lists its fields once, in a `serialize(FieldIO&)` method; the same list then writes
// them (Save), checks that a string map holds every one of them with a parsable value, recording
// each problem without assigning anything (Check), or assigns them (Load, run only after a
// Check found no problem; range checks then run on a loaded copy). Doubles are written in the shortest form that reads back to the same
// bits (std::to_chars), so a value survives a save/load cycle exactly.

#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "crisp/tensor/error.hpp"

namespace crisp::optim {

using ValueMap = std::map<std::string, std::string>;

namespace detail {

inline std::string format_double(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}
inline std::string format_int(int64_t v) { return std::to_string(v); }

// Whole-string parses; false on any junk, overflow or empty text.
inline bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
inline bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
inline bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

template <class V, class P>
bool parse_list(const std::string& s, std::vector<V>& out, P parse_one) {
  out.clear();
  if (s.empty()) return true;
  size_t b = 0;
  while (true) {
    const size_t e = s.find(',', b);
    V v{};
    if (!parse_one(s.substr(b, e == std::string::npos ? std::string::npos : e - b), v)) return false;
    out.push_back(v);
    if (e == std::string::npos) return true;
    b = e + 1;
  }
}
template <class V, class F>
std::string format_list(const std::vector<V>& v, F format_one) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += format_one(v[i]);
  }
  return s;
}

}  // namespace detail

class FieldIO {
 public:
  enum class Mode { Save, Check, Load };

  // Save: writes "<prefix><name>" entries into `out`.
  static FieldIO saver(ValueMap& out, std::string prefix) { return FieldIO(Mode::Save, &out, nullptr, std::move(prefix)); }
  // Check / Load: reads "<prefix><name>" entries of `in`; Check records problems and assigns nothing.
  static FieldIO checker(const ValueMap& in, std::string prefix, std::vector<std::string>& problems,
                         std::set<std::string>* consumed = nullptr) {
    FieldIO f(Mode::Check, nullptr, &in, std::move(prefix));
    f.problems_ = &problems;
    f.consumed_ = consumed;
    return f;
  }
  static FieldIO loader(const ValueMap& in, std::string prefix) { return FieldIO(Mode::Load, nullptr, &in, std::move(prefix)); }

  Mode mode() const { return mode_; }

  void real(const char* name, double& v) {
    field(name, v, detail::format_double, detail::parse_double, "a decimal number");
  }
  void integer(const char* name, int64_t& v) { field(name, v, detail::format_int, detail::parse_int, "an integer"); }
  void boolean(const char* name, bool& v) {
    field(name, v, [](bool b) { return std::string(b ? "true" : "false"); },
          [](const std::string& s, bool& b) {
            if (s != "true" && s != "false") return false;
            b = s == "true";
            return true;
          },
          "true or false");
  }
  void reals(const char* name, std::vector<double>& v) {
    field(name, v, [](const std::vector<double>& x) { return detail::format_list(x, detail::format_double); },
          [](const std::string& s, std::vector<double>& x) { return detail::parse_list(s, x, detail::parse_double); },
          "a comma-separated list of numbers");
  }
  void integers(const char* name, std::vector<int64_t>& v) {
    field(name, v, [](const std::vector<int64_t>& x) { return detail::format_list(x, detail::format_int); },
          [](const std::string& s, std::vector<int64_t>& x) { return detail::parse_list(s, x, detail::parse_int); },
          "a comma-separated list of integers");
  }
  void text(const char* name, std::string& v) {
    field(name, v, [](const std::string& s) { return s; },
          [](const std::string& s, std::string& x) {
            x = s;
            return true;
          },
          "text");
  }
  // In Check mode: records a problem found by the caller's own validation.
  void problem(const std::string& what) {
    if (problems_) problems_->push_back(prefix_ + ": " + what);
  }
  const std::string& prefix() const { return prefix_; }

 private:
  FieldIO(Mode m, ValueMap* out, const ValueMap* in, std::string prefix)
      : mode_(m), out_(out), in_(in), prefix_(std::move(prefix)) {}

  template <class V, class Fmt, class Parse>
  void field(const char* name, V& v, Fmt fmt, Parse parse, const char* expected) {
    const std::string key = prefix_ + name;
    if (mode_ == Mode::Save) {
      (*out_)[key] = fmt(v);
      return;
    }
    const auto it = in_->find(key);
    if (consumed_) consumed_->insert(key);
    V parsed = v;
    if (it == in_->end()) {
      if (problems_) problems_->push_back("missing value \"" + key + "\"");
      return;
    }
    if (!parse(it->second, parsed)) {
      if (problems_) problems_->push_back("value \"" + key + "\": expected " + expected + ", got \"" + it->second + "\"");
      return;
    }
    if (mode_ == Mode::Load) v = std::move(parsed);
  }

  Mode mode_;
  ValueMap* out_ = nullptr;
  const ValueMap* in_ = nullptr;
  std::string prefix_;
  std::vector<std::string>* problems_ = nullptr;
  std::set<std::string>* consumed_ = nullptr;
};

}  // namespace crisp::optim
