// The README's contract snippet, unchanged: conv -> relu -> transposed conv, l1 loss, backward
// into the input and every parameter, state dict saved to safetensors and loaded back (strict).
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <crisp/crisp.hpp>

namespace nn = crisp::nn;

TEST_CASE("contract: conv -> relu -> conv transpose -> l1 -> backward -> state dict round trip") {
  const auto dir = std::filesystem::temp_directory_path() / "crisp_contract_full";
  std::filesystem::create_directories(dir);
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);  // the snippet writes conv.safetensors where it runs
  std::ostringstream captured;
  auto* old_buf = std::cout.rdbuf(captured.rdbuf());

  // ---- the snippet, verbatim ----
  crisp::Generator gen(42);
  auto x = crisp::randn<float>({2, 3, 32, 32}, gen).requires_grad_();
  nn::Conv2d conv(nn::Conv2dOptions(3, 8, 5).stride(1).padding(2));
  nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(8, 3, 4).stride(2).padding(1));
  auto y = up(crisp::relu(conv(x)));                 // shape {2, 3, 64, 64}
  auto loss = crisp::loss::l1(y, crisp::zeros<float>(y.shape()));
  loss.backward();                                   // fills x.grad() and every parameter's grad()
  for (auto& [name, p] : conv.named_parameters())    // "weight", "bias"
    std::cout << name << " " << p.grad().shape() << "\n";
  crisp::io::save_safetensors("conv.safetensors", conv.state_dict());
  conv.load_state_dict(crisp::io::load_safetensors("conv.safetensors"));  // strict by default
  // ---- end of the snippet ----

  std::cout.rdbuf(old_buf);
  CHECK(y.shape() == crisp::Shape{2, 3, 64, 64});
  CHECK(captured.str() == "weight [8, 3, 5, 5]\nbias [8]\n");
  CHECK(x.grad().shape() == x.shape());
  for (auto& p : up.parameters()) CHECK(p.grad().shape() == p.shape());
  const auto saved = crisp::io::load_safetensors("conv.safetensors");
  CHECK(saved.size() == 2);
  CHECK(saved.at("weight").to_vector() == conv->weight.to_vector());
  CHECK(saved.at("bias").to_vector() == conv->bias.to_vector());
  // The gradient of the mean absolute value reaches x with the right magnitude somewhere.
  double gsum = 0;
  for (float g : x.grad().to_vector()) gsum += std::abs(g);
  CHECK(gsum > 0);

  std::filesystem::current_path(cwd);
  std::filesystem::remove_all(dir);
}
