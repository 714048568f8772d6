// quickstart: the smallest complete crisp program. It trains a two-layer MLP (linear + tanh +
// linear) to classify the points of a three-armed 2-D spiral with a softmax cross-entropy built
// from ops, by plain SGD written with NoGradGuard + add_, then saves the weights to safetensors,
// loads them back and checks that the reloaded model predicts exactly what the trained one does.
//
// usage: quickstart [--steps N] [--out weights.safetensors]
#include <crisp/crisp.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

namespace {

using crisp::Tensor;
using TensorMap = std::map<std::string, Tensor<float>>;

constexpr int64_t kClasses = 3, kPerClass = 100, kHidden = 64;

// Points on three interleaved spiral arms with a little noise, and their one-hot labels.
struct Dataset {
  Tensor<float> x;        // [N, 2]
  Tensor<float> one_hot;  // [N, 3]
  std::vector<int64_t> label;
};

Dataset make_spiral(crisp::Generator& gen) {
  const int64_t n = kClasses * kPerClass;
  Dataset d{crisp::zeros<float>({n, 2}), crisp::zeros<float>({n, kClasses}), {}};
  for (int64_t c = 0; c < kClasses; ++c)
    for (int64_t i = 0; i < kPerClass; ++i) {
      const int64_t row = c * kPerClass + i;
      const double r = static_cast<double>(i) / kPerClass;
      const double angle = 4.0 * static_cast<double>(c) + 4.0 * r + 0.2 * gen.normal();
      d.x(row, 0) = static_cast<float>(r * std::sin(angle));
      d.x(row, 1) = static_cast<float>(r * std::cos(angle));
      d.one_hot(row, c) = 1.0f;
      d.label.push_back(c);
    }
  return d;
}

// Parameters named as torch.nn.Sequential(Linear(2, 64), Tanh(), Linear(64, 3)) names them,
// with Linear's [out, in] weight layout, so the file loads into that PyTorch model unchanged.
struct Mlp {
  TensorMap params;

  static Mlp init(crisp::Generator& gen) {
    auto uniform = [&](crisp::Shape shape, int64_t fan_in) {  // PyTorch's default Linear init
      const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
      return crisp::rand<float>(shape, gen, -bound, bound).requires_grad_();
    };
    return Mlp{{{"0.weight", uniform({kHidden, 2}, 2)},
                {"0.bias", uniform({kHidden}, 2)},
                {"2.weight", uniform({kClasses, kHidden}, kHidden)},
                {"2.bias", uniform({kClasses}, kHidden)}}};
  }

  Tensor<float> operator()(const Tensor<float>& x) const {
    auto h = crisp::tanh(crisp::matmul(x, params.at("0.weight").t()) + params.at("0.bias"));
    return crisp::matmul(h, params.at("2.weight").t()) + params.at("2.bias");  // logits [N, 3]
  }
};

// Mean softmax cross-entropy: -mean over rows of sum(one_hot * log_softmax(logits)).
Tensor<float> cross_entropy(const Tensor<float>& logits, const Tensor<float>& one_hot) {
  return -crisp::mean(crisp::sum(one_hot * crisp::log_softmax(logits, 1), {1}));
}

double accuracy(const Tensor<float>& logits, const std::vector<int64_t>& label) {
  const auto pred = crisp::argmax(logits, 1).to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < label.size(); ++i) right += pred[i] == label[i];
  return static_cast<double>(right) / static_cast<double>(label.size());
}

}  // namespace

int main(int argc, char** argv) try {
  int steps = 3000;
  std::string out = "quickstart.safetensors";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::stoi(argv[++i]);
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else {
      std::cerr << "usage: quickstart [--steps N] [--out weights.safetensors]\n";
      return 2;
    }
  }

  crisp::Generator gen(42);
  const Dataset data = make_spiral(gen);
  Mlp model = Mlp::init(gen);
  const float lr = 0.5f;
  std::printf("quickstart: 2-64-3 tanh MLP on a %lld-point spiral, full-batch SGD, lr %.2f, %d steps\n",
              static_cast<long long>(data.x.size(0)), lr, steps);

  const auto t0 = std::chrono::steady_clock::now();
  for (int step = 1; step <= steps; ++step) {
    auto logits = model(data.x);
    auto loss = cross_entropy(logits, data.one_hot);
    loss.backward();  // fills every parameter's grad()
    {
      crisp::NoGradGuard no_grad;  // the update itself is not part of any graph
      for (auto& [name, p] : model.params) {
        p.add_(p.grad(), -lr);
        p.grad().zero_();
      }
    }
    if (step == 1 || step % 250 == 0 || step == steps)
      std::printf("step %5d  loss %.4f  accuracy %5.1f%%\n", step, loss.item(), 100 * accuracy(logits, data.label));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  crisp::NoGradGuard no_grad;
  const auto logits = model(data.x);
  const double acc = accuracy(logits, data.label);
  std::printf("trained in %.2f s: final accuracy %.1f%%\n", seconds, 100 * acc);

  // Save, reload into a fresh model, and check the predictions are bit-identical.
  TensorMap detached;
  for (const auto& [name, p] : model.params) detached.emplace(name, p.detach());
  crisp::io::save_safetensors(out, detached);
  Mlp reloaded{crisp::io::load_safetensors(out)};
  const auto again = reloaded(data.x);
  const bool same = again.to_vector() == logits.to_vector();
  std::printf("saved %zu tensors to %s; reloaded model predictions %s\n", detached.size(), out.c_str(),
              same ? "match exactly" : "DIFFER");
  std::cout << "first logits:\n" << crisp::narrow(again, 0, 0, 3) << "\n";

  if (!same) return 1;
  if (steps >= 1000 && acc < 0.9) {
    std::fprintf(stderr, "quickstart: accuracy %.1f%% is below the expected 90%%\n", 100 * acc);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "quickstart: error: " << e.what() << "\n";
  return 1;
}
