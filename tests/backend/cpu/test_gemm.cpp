// Tests for crisp::cpu::gemm: every micro-kernel the target supports, against a naive triple loop.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "crisp/backend/cpu/gemm.hpp"

namespace {

using crisp::cpu::detail::gemm_with;

// Calls f.template operator()<Kernel>() for every micro-kernel compiled for this target.
template <class T, class F>
void for_each_kernel(F&& f) {
  f.template operator()<crisp::cpu::detail::KernelGeneric<T>>();
#if defined(__AVX2__) && defined(__FMA__)
  f.template operator()<crisp::cpu::detail::KernelAvx2<T>>();
#endif
#if defined(__AVX512F__)
  f.template operator()<crisp::cpu::detail::KernelAvx512<T>>();
#endif
}

struct Case {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0;
  double alpha = 1, beta = 0;
  int64_t pad = 0;       // leading dimensions exceed the widths by this much (submatrix views)
  bool nan_c = false;    // C starts as NaN garbage (only meaningful with beta == 0)
  uint64_t seed = 1;
};

std::string describe(const Case& c) {
  return "ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " pad=" + std::to_string(c.pad);
}

// Runs gemm_fn on random operands and compares with a naive loop accumulating in long double
// (every entry for small problems, a random sample plus the corners for large ones). Entries of C
// outside the M x N view must be left untouched.
template <class T, class GemmFn>
void check(const Case& c, GemmFn&& gemm_fn) {
  INFO(describe(c));
  const int64_t lda = std::max<int64_t>(1, (c.ta ? c.M : c.K) + c.pad);
  const int64_t ldb = std::max<int64_t>(1, (c.tb ? c.K : c.N) + c.pad);
  const int64_t ldc = std::max<int64_t>(1, c.N + c.pad);
  const int64_t a_rows = c.ta ? c.K : c.M, b_rows = c.tb ? c.N : c.K;
  std::mt19937_64 rng(c.seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<T> A(std::max<int64_t>(1, a_rows * lda)), B(std::max<int64_t>(1, b_rows * ldb));
  std::vector<T> C(std::max<int64_t>(1, c.M * ldc));
  for (T& x : A) x = static_cast<T>(dist(rng));
  for (T& x : B) x = static_cast<T>(dist(rng));
  for (T& x : C) x = c.nan_c ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(dist(rng));
  const std::vector<T> C0 = C;
  const T alpha = static_cast<T>(c.alpha), beta = static_cast<T>(c.beta);

  gemm_fn(c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);

  auto a = [&](int64_t i, int64_t k) { return c.ta ? A[k * lda + i] : A[i * lda + k]; };
  auto b = [&](int64_t k, int64_t j) { return c.tb ? B[j * ldb + k] : B[k * ldb + j]; };
  const double eps = std::numeric_limits<T>::epsilon();
  int64_t bad = 0;
  auto check_entry = [&](int64_t i, int64_t j) {
    long double s = 0, mag = 0;
    for (int64_t k = 0; k < c.K; ++k) {
      const long double p = static_cast<long double>(a(i, k)) * static_cast<long double>(b(k, j));
      s += p;
      mag += std::fabs(p);
    }
    const long double c0 = C0[i * ldc + j];
    long double ref = static_cast<long double>(alpha) * s;
    long double bound = std::fabs(static_cast<long double>(alpha)) * mag;
    if (beta != T(0)) {
      ref += static_cast<long double>(beta) * c0;
      bound += std::fabs(static_cast<long double>(beta) * c0);
    }
    const long double got = C[i * ldc + j];
    const long double tol = 2 * eps * (static_cast<double>(c.K) + 4) * bound + 1e-30;
    if (!(std::fabs(got - ref) <= tol)) {
      if (bad++ < 5) FAIL_CHECK("C(" << i << "," << j << ") = " << static_cast<double>(got) << ", expected "
                                     << static_cast<double>(ref) << " (tol " << static_cast<double>(tol) << ")");
    }
  };
  if (c.M * c.N * std::max<int64_t>(c.K, 1) <= 3'000'000) {
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) check_entry(i, j);
  } else {
    std::uniform_int_distribution<int64_t> ri(0, c.M - 1), rj(0, c.N - 1);
    for (int s = 0; s < 1500; ++s) check_entry(ri(rng), rj(rng));
    for (int64_t i : {int64_t(0), c.M - 1})
      for (int64_t j : {int64_t(0), c.N - 1}) check_entry(i, j);
  }
  CHECK(bad == 0);
  // The padding columns of C (j >= N) are outside the view and must not be written.
  int64_t touched = 0;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = c.N; j < ldc; ++j) {
      const T x = C[i * ldc + j], y = C0[i * ldc + j];
      if (!(x == y || (std::isnan(x) && std::isnan(y)))) ++touched;
    }
  CHECK(touched == 0);
}

template <class T>
auto public_gemm() {
  return [](auto... args) { crisp::cpu::gemm<T>(args...); };
}

}  // namespace

TEMPLATE_TEST_CASE("gemm matches a naive loop on odd sizes, all transposes, every kernel", "[gemm]", float,
                   double) {
  using T = TestType;
  const int64_t sizes[] = {1, 3, 17, 33, 65, 129};
  for_each_kernel<T>([&]<class Kern>() {
    INFO("kernel " << Kern::name);
    auto fn = [](auto... args) { gemm_with<Kern, T>(args...); };
    uint64_t seed = 1;
    for (int t = 0; t < 4; ++t)
      for (int64_t M : sizes)
        for (int64_t N : sizes)
          for (int64_t K : sizes) {
            Case c{(t & 1) != 0, (t >> 1) != 0, M, N, K, 1.0, 0.0, 0, false, seed++};
            check<T>(c, fn);
          }
  });
}

TEMPLATE_TEST_CASE("gemm on sizes crossing the cache blocks, with alpha, beta and padded strides", "[gemm]",
                   float, double) {
  using T = TestType;
  for_each_kernel<T>([&]<class Kern>() {
    INFO("kernel " << Kern::name);
    auto fn = [](auto... args) { gemm_with<Kern, T>(args...); };
    uint64_t seed = 100;
    for (int t = 0; t < 4; ++t) {
      const bool ta = (t & 1) != 0, tb = (t >> 1) != 0;
      check<T>({ta, tb, 2, 7, 31, 1.0, 0.0, 0, false, seed++}, fn);
      check<T>({ta, tb, 100, 257, 7, -0.5, 2.0, 3, false, seed++}, fn);
      check<T>({ta, tb, 257, 100, 65, 1.5, 0.5, 5, false, seed++}, fn);
      check<T>({ta, tb, 31, 33, 700, 1.0, 1.0, 1, false, seed++}, fn);  // K crosses KC twice
      check<T>({ta, tb, 300, 65, 100, 2.0, -1.0, 0, false, seed++}, fn);  // M crosses MC
      check<T>({ta, tb, 29, 4200, 40, 1.0, 0.0, 2, true, seed++}, fn);    // N crosses NC
    }
  });
}

TEMPLATE_TEST_CASE("gemm with beta == 0 overwrites NaN garbage in C", "[gemm]", float, double) {
  using T = TestType;
  uint64_t seed = 200;
  for (int t = 0; t < 4; ++t) {
    const bool ta = (t & 1) != 0, tb = (t >> 1) != 0;
    check<T>({ta, tb, 5, 6, 7, 1.0, 0.0, 0, true, seed++}, public_gemm<T>());      // small path
    check<T>({ta, tb, 65, 129, 33, 0.5, 0.0, 4, true, seed++}, public_gemm<T>());  // packed path
    check<T>({ta, tb, 17, 33, 0, 1.0, 0.0, 1, true, seed++}, public_gemm<T>());    // K == 0
    check<T>({ta, tb, 17, 33, 9, 0.0, 0.0, 1, true, seed++}, public_gemm<T>());    // alpha == 0
  }
}

TEMPLATE_TEST_CASE("gemm edge cases: empty and unit sizes, K == 0 scales C by beta", "[gemm]", float, double) {
  using T = TestType;
  uint64_t seed = 300;
  for (int t = 0; t < 4; ++t) {
    const bool ta = (t & 1) != 0, tb = (t >> 1) != 0;
    for (int64_t M : {0, 1, 2})
      for (int64_t N : {0, 1, 2})
        for (int64_t K : {0, 1, 2}) check<T>({ta, tb, M, N, K, 1.5, 0.25, 0, false, seed++}, public_gemm<T>());
    check<T>({ta, tb, 1, 5000, 1, 1.0, 0.0, 0, false, seed++}, public_gemm<T>());
    check<T>({ta, tb, 5000, 1, 3, 1.0, 1.0, 0, false, seed++}, public_gemm<T>());
    check<T>({ta, tb, 1, 1, 50000, 1.0, 0.0, 0, false, seed++}, public_gemm<T>());
    check<T>({ta, tb, 64, 33, 0, 1.0, -2.0, 3, false, seed++}, public_gemm<T>());
  }
  // M == 0 or N == 0: nothing is read or written, null pointers are fine.
  crisp::cpu::gemm<T>(false, false, 0, 5, 5, T(1), nullptr, 5, nullptr, 5, T(0), nullptr, 5);
  crisp::cpu::gemm<T>(false, false, 5, 0, 5, T(1), nullptr, 5, nullptr, 1, T(0), nullptr, 1);
}

TEMPLATE_TEST_CASE("gemm on tall-skinny and conv-like (im2col) shapes", "[gemm]", float, double) {
  using T = TestType;
  auto fn = public_gemm<T>();
  // forward: W[64 x 1600] . cols[1600 x N]; backward-data: W^T . dY; backward-weight: dY . cols^T.
  check<T>({false, false, 64, 4096, 1600, 1.0, 0.0, 0, true, 400}, fn);
  check<T>({true, false, 1600, 4096, 64, 1.0, 0.0, 0, true, 401}, fn);
  check<T>({false, true, 64, 1600, 4096, 1.0, 1.0, 0, false, 402}, fn);
  check<T>({false, false, 10000, 3, 64, 1.0, 0.0, 0, false, 403}, fn);  // tall-skinny
  check<T>({true, true, 3, 8000, 96, 1.0, 0.0, 1, false, 404}, fn);     // short-wide
}

TEMPLATE_TEST_CASE("gemm called inside a parallel region runs serially and stays correct", "[gemm]", float,
                   double) {
  using T = TestType;
  const int64_t n = 96;
  std::vector<T> A(n * n), B(n * n), C(2 * n * n, T(-1));
  for (int64_t i = 0; i < n * n; ++i) A[i] = T(i % 7) - 3, B[i] = T(i % 5) - 2;
#pragma omp parallel num_threads(2)
  {
    const int t = omp_get_thread_num();
    crisp::cpu::gemm<T>(false, false, n, n, n, T(1), A.data(), n, B.data(), n, T(0), C.data() + t * n * n, n);
  }
  for (int t = 0; t < 2; ++t)
    for (int64_t i = 0; i < n; i += 7)
      for (int64_t j = 0; j < n; j += 5) {
        T s = 0;
        for (int64_t k = 0; k < n; ++k) s += A[i * n + k] * B[k * n + j];
        REQUIRE(C[t * n * n + i * n + j] == s);  // small integers: exact
      }
}

TEST_CASE("gemm rejects bad arguments with crisp::Error", "[gemm]") {
  std::vector<float> A(100), B(100), C(100);
  auto call = [&](bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, int64_t ldc) {
    crisp::cpu::gemm<float>(ta, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), ldc);
  };
  using Catch::Matchers::Contains;
  CHECK_THROWS_AS(call(false, false, -1, 2, 2, 2, 2, 2), crisp::Error);
  CHECK_THROWS_WITH(call(false, false, 2, -3, 2, 2, 2, 2), Contains("gemm: expected non-negative sizes, got M=2, N=-3"));
  CHECK_THROWS_WITH(call(false, false, 2, 2, -1, 2, 2, 2), Contains("gemm: expected") && Contains("K=-1"));
  CHECK_THROWS_WITH(call(false, false, 3, 4, 5, 4, 4, 4), Contains("gemm: expected lda >= 5") && Contains("got lda=4"));
  CHECK_THROWS_WITH(call(true, false, 3, 4, 5, 2, 4, 4), Contains("gemm: expected lda >= 3") && Contains("got lda=2"));
  CHECK_THROWS_WITH(call(false, false, 3, 4, 5, 5, 3, 4), Contains("gemm: expected ldb >= 4") && Contains("got ldb=3"));
  CHECK_THROWS_WITH(call(false, true, 3, 4, 5, 5, 4, 4), Contains("gemm: expected ldb >= 5") && Contains("got ldb=4"));
  CHECK_THROWS_WITH(call(false, false, 3, 4, 5, 5, 4, 3), Contains("gemm: expected ldc >= 4") && Contains("got ldc=3"));
  CHECK_THROWS_AS(call(false, false, 3, 4, 5, 5, 4, 0), crisp::Error);
  CHECK_THROWS_AS(crisp::cpu::gemm<double>(false, false, 2, 2, 2, 1.0, nullptr, 2, nullptr, 2, 0.0, nullptr, 2),
                  crisp::Error);
  CHECK_NOTHROW(call(false, false, 3, 4, 5, 5, 4, 4));
}
