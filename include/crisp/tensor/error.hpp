// crisp::Error and its subclasses: the one exception family crisp throws for bad input.
// Messages name the operation, what it expected and what it was given.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace crisp {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Wrong shape, rank, dim or argument value passed to an op.
class ShapeError : public Error {
 public:
  using Error::Error;
};
class ValueError : public Error {
 public:
  using Error::Error;
};
// A file that cannot be read, is truncated or malformed.
class IoError : public Error {
 public:
  using Error::Error;
};
// Misuse of the autograd engine (backward through a freed graph, non-scalar backward, ...).
class AutogradError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

}  // namespace crisp

// CRISP_CHECK(cond, ErrorType, "op", msg parts...) throws ErrorType("op: msg") when cond is false.
#define CRISP_CHECK(cond, ErrorType, op, ...)                                       \
  do {                                                                              \
    if (!(cond)) throw ErrorType(::crisp::detail::str_cat(op, ": ", __VA_ARGS__)); \
  } while (0)
