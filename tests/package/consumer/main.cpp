// The program both package tests build: a tiny tensor + autograd + safetensors computation,
// checked against hand-written loops. Exits non-zero on any wrong result.
#include <crisp/crisp.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

namespace {
int failures = 0;
void expect_near(const char* what, float got, float want) {
  if (std::abs(got - want) > 1e-5f * (1.0f + std::abs(want))) {
    std::cerr << "FAIL " << what << ": got " << got << ", expected " << want << "\n";
    ++failures;
  }
}
}  // namespace

int main() try {
  // loss = mean((x @ w)^2) for x [2, 3], w [3, 2].
  const std::vector<float> xv{1, 2, 3, 4, 5, 6}, wv{0.5f, -1, 0.25f, 2, -0.75f, 1.5f};
  auto x = crisp::from_vector<float>(xv, {2, 3}).requires_grad_();
  auto w = crisp::from_vector<float>(wv, {3, 2}).requires_grad_();
  auto y = crisp::matmul(x, w);
  auto loss = crisp::mean(y * y);
  loss.backward();
  std::cout << "y = " << y << "\nloss = " << loss.item() << "\n";

  // The same by hand: dloss/dy = y / 2, dx = dy w^T, dw = x^T dy.
  float yr[2][2] = {}, want_loss = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      for (int k = 0; k < 3; ++k) yr[i][j] += xv[i * 3 + k] * wv[k * 2 + j];
      want_loss += yr[i][j] * yr[i][j] / 4;
    }
  expect_near("loss", loss.item(), want_loss);
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 3; ++k) {
      float g = 0;
      for (int j = 0; j < 2; ++j) g += yr[i][j] / 2 * wv[k * 2 + j];
      expect_near("x.grad", x.grad()(i, k), g);
    }
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 2; ++j) {
      float g = 0;
      for (int i = 0; i < 2; ++i) g += xv[i * 3 + k] * yr[i][j] / 2;
      expect_near("w.grad", w.grad()(k, j), g);
    }

  // Weights survive a safetensors round trip bit for bit.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("crisp_consumer_" + std::to_string(::getpid()) + ".safetensors")).string();
  crisp::io::save_safetensors(path, std::map<std::string, crisp::Tensor<float>>{{"w", w.detach()}});
  auto loaded = crisp::io::load_safetensors(path);
  std::filesystem::remove(path);
  if (loaded.size() != 1 || !loaded.count("w") || loaded.at("w").to_vector() != wv) {
    std::cerr << "FAIL safetensors round trip\n";
    ++failures;
  }

  if (failures) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "crisp consumer: OK\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "FAIL: exception: " << e.what() << "\n";
  return 1;
}
