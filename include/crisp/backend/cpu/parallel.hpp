// parallel_for: splits an index range over OpenMP threads. Runs serially when the range is
// small (below `grain` per thread) or when already inside a parallel region (no nesting).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>

namespace crisp::cpu {

inline int max_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// f(begin, end) is called on disjoint chunks covering [begin, end). Exceptions thrown by f
// must not escape an OpenMP region, so they are caught and rethrown on the calling thread.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t max_by_grain = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  const int threads = static_cast<int>(std::min<int64_t>(max_threads(), max_by_grain));
  if (threads <= 1) {
    f(begin, end);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t b = begin + t * chunk, e = std::min(end, b + chunk);
    if (b < e) {
      try {
        f(b, e);
      } catch (...) {
#pragma omp critical(crisp_parallel_for_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace crisp::cpu
