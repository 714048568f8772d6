// Tests for the training programs' shared infrastructure (examples/common/): CSV log, sample
// grids, checkpoints with pruning, Ctrl-C handling, and a resumed run that continues bit for bit.
#include <catch2/catch.hpp>

#include <crisp/crisp.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "../../examples/common/cli.hpp"
#include "../../examples/common/train_loop.hpp"

namespace fs = std::filesystem;
namespace ex = crisp::examples;
namespace nn = crisp::nn;
using crisp::Tensor;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("crisp_test_train_loop_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

nn::Sequential tiny_net(uint64_t seed) {
  crisp::Generator g(seed);
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1), g), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(4, 3, 3).padding(1), g));
}

ex::TrainOptions options(const fs::path& out, int64_t iters) {
  ex::TrainOptions o;
  o.out = out.string();
  o.iters = iters;
  o.lr = 1e-2;
  o.seed = 11;
  o.checkpoint_every = 2;
  o.sample_every = 3;
  o.log_every = 1;
  return o;
}

// Runs the loop of a tiny denoiser; raises SIGINT inside step `interrupt_at` (< 0: never).
// Returns the exit code of finish().
int train(nn::Sequential& net, crisp::optim::Adam& adam, ex::TrainOptions o, int64_t interrupt_at) {
  ex::TrainLoop loop("test_train", o, {"l1", "twice"});
  loop.track("net", net, adam);
  loop.begin();
  while (loop.next()) {
    crisp::Generator g = loop.step_generator();
    const Tensor<float> target = crisp::rand<float>({2, 3, 8, 8}, g);
    // Noise from the run's generator too: it must be restored on resume for the runs to match.
    const Tensor<float> input = target + crisp::randn<float>({2, 3, 8, 8}, loop.generator()) * 0.1f;
    adam.zero_grad();
    const Tensor<float> out = net(input);
    Tensor<float> loss = crisp::loss::l1(out, target);
    loss.backward();
    adam.step();
    loop.log({loss.item(), 2.0 * loss.item()});
    if (loop.sample_due()) loop.save_samples({input, out, target});
    if (loop.step() == interrupt_at) std::raise(SIGINT);
  }
  return loop.finish();
}

}  // namespace

TEST_CASE("CsvLog writes a header and rows, and a resumed log drops rows past the checkpoint", "[train][log]") {
  TempDir tmp("csv");
  const std::string p = (tmp.path / "log.csv").string();
  {
    ex::CsvLog log(p, {"l1", "adv"});
    for (int64_t s = 1; s <= 4; ++s) log.write(s, 0.5 * s, {0.25 * s, 1.0});
  }
  CHECK(read_text(p) ==
        "step,time_s,l1,adv\n1,0.500,0.25,1\n2,1.000,0.5,1\n3,1.500,0.75,1\n4,2.000,1,1\n");
  {
    ex::CsvLog log(p, {"l1", "adv"}, 2);  // resumed at step 2: rows 3 and 4 never reached a checkpoint
    log.write(3, 9.0, {7.0, 8.0});
  }
  CHECK(read_text(p) == "step,time_s,l1,adv\n1,0.500,0.25,1\n2,1.000,0.5,1\n3,9.000,7,8\n");
  CHECK_THROWS_WITH(ex::CsvLog(p, {"l1"}, 2), Catch::Contains("has the columns 'step,time_s,l1,adv'"));
  CHECK_THROWS_AS(ex::CsvLog(p, {"a,b"}), crisp::ValueError);
  ex::CsvLog fresh(p, {"x"});
  CHECK_THROWS_WITH(fresh.write(1, 0, {1, 2}), Catch::Contains("expected 1 values"));
}

TEST_CASE("save_sample_grid lays samples out as rows of columns", "[train][grid]") {
  TempDir tmp("grid");
  const Tensor<float> a = crisp::full<float>({3, 3, 8, 10}, 0.5f), b = crisp::full<float>({5, 1, 8, 10}, -1.f);
  const std::string p = (tmp.path / "s" / "grid.png").string();
  ex::save_sample_grid(p, {a, b}, 4, -1.f, 1.f);
  const Tensor<float> img = crisp::data::load_image(p);
  // min(3, 5) rows of 2 columns, 8 x 10 cells, padding 2: H = 3 * 10 + 2, W = 2 * 12 + 2.
  REQUIRE(img.shape() == crisp::Shape{3, 32, 26});
  CHECK(img.data()[2 * 26 + 2] == Approx(0.75f).margin(1.f / 255));   // a mapped from [-1, 1]
  CHECK(img.data()[2 * 26 + 14] == Approx(0.f).margin(1.f / 255));    // b = -1 -> 0
  CHECK_THROWS_AS(ex::save_sample_grid(p, {crisp::zeros<float>({3, 4})}), crisp::ShapeError);
}

TEST_CASE("Shared options: device, ranges and data folders give clear errors", "[train][cli]") {
  CHECK(ex::parse_device("cpu", "t") == crisp::Device::cpu());
#if !defined(CRISP_WITH_CUDA)
  CHECK_THROWS_WITH(ex::parse_device("cuda", "train_x"), Catch::Contains("train_x") && Catch::Contains("without CUDA"));
#endif
  CHECK_THROWS_WITH(ex::parse_device("tpu", "t"), Catch::Contains("expected --device cpu, cuda or cuda:N, got 'tpu'"));
  ex::TrainOptions o;
  o.iters = 0;
  CHECK_THROWS_WITH(ex::check_train_options(o, "t"), Catch::Contains("--iters >= 1, got 0"));
  TempDir tmp("cli");
  CHECK_THROWS_WITH(ex::require_images((tmp.path / "nope").string(), "train_x --data"),
                    Catch::Contains("train_x --data") && Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(ex::require_images(tmp.path.string(), "train_x --data"), Catch::Contains("holds no images"));
  CHECK_THROWS_WITH(ex::require_images("", "train_x --data"), Catch::Contains("pass --data DIR"));

  CLI::App app{"t"};
  ex::TrainOptions parsed;
  ex::add_train_options(app, parsed);
  const char* argv[] = {"t", "--iters", "7", "--lr", "0.5", "--resume", "--batch-size", "3"};
  app.parse(8, const_cast<char**>(argv));
  CHECK(parsed.iters == 7);
  CHECK(parsed.lr == 0.5);
  CHECK(parsed.resume);
  CHECK(parsed.batch_size == 3);
  CHECK(parsed.conv_math == "fp32");
}

TEST_CASE("Shared options: --conv-math picks the convolution arithmetic or says why not", "[train][cli]") {
  CHECK(ex::parse_conv_math("fp32", "cpu", "t") == crisp::ConvMath::FP32);
  CHECK(ex::parse_conv_math("tf32", "cuda", "t") == crisp::ConvMath::TF32);
  CHECK(ex::parse_conv_math("bf16", "cuda:0", "t") == crisp::ConvMath::BF16);
  CHECK_THROWS_WITH(ex::parse_conv_math("fp16", "cpu", "train_x"),
                    Catch::Contains("train_x") && Catch::Contains("expected --conv-math fp32, bf16 or tf32, got 'fp16'"));
  CHECK_THROWS_WITH(ex::parse_conv_math("tf32", "cpu", "t"), Catch::Contains("tf32 is a CUDA mode"));
  {
    const crisp::cpu::HideCpuFeatures hidden(crisp::cpu::kAvx512Bf16);
    CHECK_THROWS_WITH(ex::parse_conv_math("bf16", "cpu", "t"),
                      Catch::Contains("--conv-math bf16 on the CPU needs avx512_bf16"));
  }
  if (crisp::cpu::cpu_has(crisp::cpu::kAvx512Bf16)) CHECK(ex::parse_conv_math("bf16", "cpu", "t") == crisp::ConvMath::BF16);

  // check_train_options applies it for the run.
  ex::TrainOptions o;
  o.out = "unused";
  o.conv_math = "fp32";
  ex::check_train_options(o, "t");
  CHECK(crisp::cpu::conv_math() == crisp::ConvMath::FP32);
  o.conv_math = "tf32";
  CHECK_THROWS_WITH(ex::check_train_options(o, "t"), Catch::Contains("tf32 is a CUDA mode"));
  CHECK(crisp::cpu::conv_math() == crisp::ConvMath::FP32);
}

TEST_CASE("Checkpointer keeps the newest folders and points latest at a complete one", "[train][checkpoint]") {
  TempDir tmp("ckpt");
  nn::Sequential net = tiny_net(1);
  crisp::optim::Adam adam(net->parameters());
  ex::Checkpointer ck((tmp.path / "ck").string(), 2);
  ck.track("net", net, adam);
  CHECK_THROWS_AS(ck.track("net", net, adam), crisp::ValueError);
  CHECK_FALSE(ck.latest().has_value());
  crisp::Generator g(5);
  for (int64_t s : {10, 20, 30}) ck.save(s, &g);
  CHECK(ck.latest().value() == (tmp.path / "ck" / "step_0000030").string());
  CHECK_FALSE(fs::exists(tmp.path / "ck" / "step_0000010"));
  CHECK(fs::exists(tmp.path / "ck" / "step_0000020" / "net.safetensors"));
  ck.save(15, &g);  // resumed from an earlier step: later folders are stale
  CHECK_FALSE(fs::exists(tmp.path / "ck" / "step_0000030"));
  CHECK_FALSE(fs::exists(tmp.path / "ck" / "step_0000020"));
  CHECK(ck.latest().value() == (tmp.path / "ck" / "step_0000015").string());
}

TEST_CASE("A run stopped by Ctrl-C and resumed ends bit-identical to an uninterrupted run", "[train][resume]") {
  TempDir tmp("resume");
  const int64_t iters = 7;

  nn::Sequential ref = tiny_net(3);
  crisp::optim::Adam ref_adam(ref->parameters(), crisp::optim::AdamOptions(1e-2));
  CHECK(train(ref, ref_adam, options(tmp.path / "straight", iters), -1) == 0);

  // Interrupted inside step 2 (0-based): the loop stops after it and checkpoints step 3.
  const fs::path out = tmp.path / "stopped";
  {
    nn::Sequential net = tiny_net(3);
    crisp::optim::Adam adam(net->parameters(), crisp::optim::AdamOptions(1e-2));
    CHECK(train(net, adam, options(out, iters), 2) == 130);
    CHECK(ex::interrupted());
  }
  CHECK(read_text(out / "checkpoints" / "latest") == "step_0000003\n");
  // A fresh process would start with other weights: resuming must replace all of them.
  nn::Sequential net = tiny_net(99);
  crisp::optim::Adam adam(net->parameters(), crisp::optim::AdamOptions(1e-2));
  auto o = options(out, iters);
  o.resume = true;
  CHECK(train(net, adam, o, -1) == 0);

  const auto a = ref->state_dict(), b = net->state_dict();
  REQUIRE(a.size() == b.size());
  for (const auto& [k, t] : a) {
    INFO(k);
    const Tensor<float> u = t.contiguous(), v = b.at(k).contiguous();
    REQUIRE(u.numel() == v.numel());
    CHECK(std::memcmp(u.data(), v.data(), sizeof(float) * static_cast<size_t>(u.numel())) == 0);
  }
  // The logs agree row for row, apart from the time column.
  auto strip_time = [](const std::string& s) {
    std::string out, line;
    std::istringstream in(s);
    while (std::getline(in, line)) {
      const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
      out += line.substr(0, c1) + line.substr(c2) + "\n";
    }
    return out;
  };
  const std::string straight = strip_time(read_text(tmp.path / "straight" / "log.csv"));
  CHECK(straight == strip_time(read_text(out / "log.csv")));
  CHECK(std::count(straight.begin(), straight.end(), '\n') == iters + 1);
  CHECK(fs::exists(out / "samples" / "step_0000003.png"));
  CHECK(fs::exists(out / "samples" / "step_0000007.png"));  // the last step always writes one
  CHECK(read_text(out / "checkpoints" / "latest") == "step_0000007\n");

  // Nothing to resume from: a clear error.
  auto o2 = options(tmp.path / "empty", iters);
  o2.resume = true;
  ex::TrainLoop loop("train_x", o2, {"l1"});
  loop.track("net", net, adam);
  CHECK_THROWS_WITH(loop.begin(), Catch::Contains("train_x: --resume: no checkpoint"));
}

TEST_CASE("TrainLoop rejects a NaN loss, naming the term and the step", "[train][nan]") {
  TempDir tmp("nan");
  nn::Sequential net = tiny_net(1);
  crisp::optim::Adam adam(net->parameters());
  ex::TrainLoop loop("train_x", options(tmp.path, 3), {"l1", "adv"});
  loop.track("net", net, adam);
  loop.begin();
  REQUIRE(loop.next());
  CHECK_THROWS_WITH(loop.log({0.5, std::nan("")}), Catch::Contains("loss term 'adv' is nan at step 0"));
}
