// dropout: gradient = mask / (1 - p), the fraction dropped, exact scaling, determinism for a
// seed, identity outside training, and argument errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include <omp.h>

#include "crisp/crisp.hpp"
#include "crisp/ops/dropout.hpp"
#include "gradcheck_util.hpp"

using namespace crisp;
using crisp::test::check_grad;
using crisp::test::Inputs;
using crisp::test::leaf;

TEST_CASE("dropout gradcheck and gradient = mask / (1 - p)") {
  REQUIRE(check_grad(
      [](const Inputs& v) {
        Generator gen(5);  // the same mask at every evaluation
        return dropout(v[0], 0.4, true, gen);
      },
      {leaf({3, 4, 5}, 1)}));

  auto x = crisp::test::leaf_away_from_zero({1000}, 2);
  Generator gen(6);
  auto y = dropout(x, 0.3, true, gen);
  y.backward(ones<double>({1000}));
  const double scale = 1.0 / (1.0 - 0.3);
  int dropped = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    const bool kept = y(i) != 0.0;
    dropped += !kept;
    REQUIRE(x.grad()(i) == (kept ? scale : 0.0));
  }
  CHECK(dropped > 200);
  CHECK(dropped < 400);
}

TEST_CASE("dropout drops a fraction p and scales kept values exactly by 1 / (1 - p)") {
  const int64_t n = 1000000;
  Generator init(7);
  const auto x = rand<float>({n}, init, 0.5f, 1.5f);  // never zero
  for (double p : {0.1, 0.5, 0.73}) {
    Generator gen(8);
    const auto y = dropout(x, p, true, gen);
    const float scale = 1.0f / static_cast<float>(1.0 - p);
    int64_t zeros_count = 0;
    bool exact = true;
    for (int64_t i = 0; i < n; ++i) {
      const float v = y.data()[i];
      if (v == 0.0f)
        ++zeros_count;
      else
        exact = exact && v == x.data()[i] * scale;
    }
    INFO("p = " << p << ", dropped " << zeros_count << " of " << n);
    CHECK(exact);
    // 6 standard deviations of a binomial fraction: below 3e-3 for every p here.
    CHECK(std::abs(double(zeros_count) / n - p) < 6 * std::sqrt(p * (1 - p) / n));
  }
}

TEST_CASE("dropout masks depend on the seed alone and the generator advances") {
  Generator a(9), b(9);
  const auto x = ones<float>({3, 70000});  // several mask chunks
  const auto y1 = dropout(x, 0.5, true, a), y2 = dropout(x, 0.5, true, b);
  CHECK(y1.to_vector() == y2.to_vector());
  const auto y3 = dropout(x, 0.5, true, a);  // the next call draws a new mask
  CHECK(y1.to_vector() != y3.to_vector());
  // The same mask whatever the thread count.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Generator c(9);
  const auto y4 = dropout(x, 0.5, true, c);
  omp_set_num_threads(threads);
  CHECK(y1.to_vector() == y4.to_vector());
  // Neighbouring chunks do not repeat one another.
  const auto v = y1.to_vector();
  CHECK(std::vector<float>(v.begin(), v.begin() + 16384) != std::vector<float>(v.begin() + 16384, v.begin() + 32768));
}

TEST_CASE("dropout is the identity outside training or with p = 0, zeros with p = 1") {
  auto x = leaf({4, 5}, 10);
  Generator gen(11);
  const auto state = gen.state();
  CHECK(dropout(x, 0.5, false, gen).same(x));
  CHECK(dropout(x, 0.0, true, gen).same(x));
  CHECK(gen.state() == state);  // nothing drawn
  auto z = dropout(x, 1.0, true, gen);
  CHECK(z.to_vector() == std::vector<double>(20, 0.0));
  z.sum().backward();
  CHECK(x.grad().to_vector() == std::vector<double>(20, 0.0));
  // A non-contiguous input is handled, and the default generator overload works.
  const auto t = ones<double>({6, 7}).transpose(0, 1);
  const auto d = dropout(t, 0.5);
  CHECK(d.shape() == Shape{7, 6});
  for (double v : d.to_vector()) CHECK((v == 0.0 || v == 2.0));
}

TEST_CASE("dropout rejects p outside [0, 1]") {
  const auto x = ones<float>({2, 3});
  Generator gen(12);
  for (double p : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    try {
      dropout(x, p, true, gen);
      FAIL("no error for p = " << p);
    } catch (const ValueError& e) {
      CHECK_THAT(std::string(e.what()),
                 Catch::Contains("dropout") && Catch::Contains("[0, 1]") && Catch::Contains("[2, 3]"));
    }
  }
}
