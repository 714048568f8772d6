// The README's contract, as far as this layer goes: tensors, autograd and safetensors IO.
// (nn::Conv2d / ConvTranspose2d / loss::l1 join this test with the convolution and nn issues;
// here a matmul "layer" stands in for the convolution.)
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <crisp/crisp.hpp>

TEST_CASE("contract: randn -> requires_grad_ -> ops -> backward -> grads -> safetensors round trip") {
  crisp::Generator gen(42);
  auto x = crisp::randn<float>({2, 3, 32, 32}, gen).requires_grad_();
  std::map<std::string, crisp::Tensor<float>> params{
      {"weight", crisp::randn<float>({8, 3}, gen).requires_grad_()},
      {"bias", crisp::zeros<float>({8, 1, 1}).requires_grad_()},
  };
  // A 1x1 "convolution" written with matmul over channels.
  auto flat = x.reshape({2, 3, 32 * 32});
  auto y = crisp::relu(crisp::matmul(params["weight"], flat).reshape({2, 8, 32, 32}) + params["bias"]);
  auto loss = crisp::mean(crisp::abs(y - crisp::zeros<float>(y.shape())));
  loss.backward();
  CHECK(x.grad().shape() == crisp::Shape{2, 3, 32, 32});
  std::ostringstream os;
  for (auto& [name, p] : params) os << name << " " << p.grad().shape() << "\n";
  CHECK(os.str() == "bias [8, 1, 1]\nweight [8, 3]\n");

  const auto path = (std::filesystem::temp_directory_path() / "crisp_contract.safetensors").string();
  crisp::io::save_safetensors(path, params);
  auto loaded = crisp::io::load_safetensors(path);
  REQUIRE(loaded.size() == 2);
  CHECK(loaded.at("weight").to_vector() == params["weight"].to_vector());
  CHECK(loaded.at("bias").shape() == crisp::Shape{8, 1, 1});
  std::remove(path.c_str());
}
