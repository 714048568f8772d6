// Checkpoints: exact resume in a fresh process, rejection of truncated and corrupted files,
// all-or-nothing loads into a model of another shape, and crashes during a save (the process
// killed mid-write by SIGXFSZ and by SIGKILL) leaving the previous checkpoint intact.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <crisp/crisp.hpp>
#include <crisp/io/checkpoint.hpp>
#include <crisp/optim/optim.hpp>

namespace nn = crisp::nn;
namespace optim = crisp::optim;
namespace fs = std::filesystem;
using crisp::Tensor;

namespace {

struct TempDir {
  std::string path;
  // in_memory: under /dev/shm when there is one, for tests that write thousands of small files.
  explicit TempDir(bool in_memory = false) {
    std::string tmpl = (in_memory && fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") + std::string("/crisp-ckpt-XXXXXX");
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

nn::Sequential make_net(int64_t hidden, uint64_t seed) {
  crisp::Generator g(seed);
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, hidden, 3).padding(1), g), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(hidden, 2, 3).padding(1), g));
}

// The training run whose resume is checked: batches drawn from `gen` (so its state matters),
// Adam with amsgrad, a cosine schedule stepped every iteration, gradient clipping.
struct Run {
  nn::Sequential net;
  optim::Adam opt;
  optim::CosineAnnealingLR sched;
  crisp::Generator gen;
  Run(uint64_t weight_seed, uint64_t data_seed)
      : net(make_net(4, weight_seed)),
        opt(net->parameters(), optim::AdamOptions(3e-3).amsgrad(true).weight_decay(1e-3)),
        sched(opt, 7),
        gen(data_seed) {}
  void train(int steps) {
    for (int s = 0; s < steps; ++s) {
      const Tensor<float> x = crisp::randn<float>({2, 3, 6, 6}, gen), y = crisp::randn<float>({2, 2, 6, 6}, gen);
      opt.zero_grad();
      Tensor<float> loss = crisp::loss::mse(net(x), y);
      loss.backward();
      optim::clip_grad_norm_(net->parameters(), 1.0);
      opt.step();
      sched.step();
    }
  }
};

bool same_bits(const std::map<std::string, Tensor<float>>& a, const std::map<std::string, Tensor<float>>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, t] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second.shape() != t.shape() || it->second.to_vector() != t.to_vector()) return false;
  }
  return true;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// Runs this test program again, in a new process, on one test case; returns its exit status.
int run_self(const std::string& test_name, const std::string& dir) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("CRISP_CKPT_DIR", dir.c_str(), 1);
    ::execl("/proc/self/exe", "/proc/self/exe", test_name.c_str(), "--out", (dir + "/child.log").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(read_bytes(dir + "/child.log"));
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

std::vector<std::string> temp_files(const std::string& dir, const std::string& stem) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(stem + ".tmp-", 0) == 0) out.push_back(e.path().string());
  return out;
}

}  // namespace

TEST_CASE("resume is exact: 20 steps straight == 10 steps, checkpoint, a fresh process loading it, 10 more",
          "[checkpoint]") {
  TempDir dir;
  Run straight(1, 2);
  straight.train(20);

  Run first(1, 2);
  first.train(10);
  crisp::io::save_checkpoint(dir.path + "/half.ckpt", first.net, first.opt, &first.sched, 10, &first.gen,
                             {{"note", "half way"}});
  REQUIRE(run_self("checkpoint resume child", dir.path) == 0);

  const auto child = crisp::io::load_safetensors<float>(dir.path + "/final.safetensors");
  CHECK(same_bits(child, straight.net->state_dict()));
  // ... and the in-process resume agrees too
  Run resumed(7, 8);
  const auto info = crisp::io::load_checkpoint(dir.path + "/half.ckpt", resumed.net, resumed.opt, &resumed.sched,
                                               &resumed.gen);
  CHECK(info.step == 10);
  CHECK(info.metadata == std::map<std::string, std::string>{{"note", "half way"}});
  resumed.train(10);
  CHECK(same_bits(resumed.net->state_dict(), straight.net->state_dict()));
  CHECK(resumed.sched.get_last_lr() == straight.sched.get_last_lr());
  CHECK(resumed.gen.state() == straight.gen.state());
}

// The second half of the test above, in its own process (hidden from normal runs).
TEST_CASE("checkpoint resume child", "[.checkpoint-child]") {
  const char* dir = std::getenv("CRISP_CKPT_DIR");
  REQUIRE(dir != nullptr);
  Run run(12345, 999);  // other weights and RNG: everything must come from the checkpoint
  const auto info = crisp::io::load_checkpoint(std::string(dir) + "/half.ckpt", run.net, run.opt, &run.sched, &run.gen);
  REQUIRE(info.step == 10);
  run.train(10);
  crisp::io::save_safetensors(std::string(dir) + "/final.safetensors", run.net->state_dict());
}

TEST_CASE("a checkpoint for a model of another shape fails with one clear error and changes nothing",
          "[checkpoint]") {
  TempDir dir;
  Run small(1, 2);
  small.train(3);
  crisp::io::save_checkpoint(dir.path + "/c.ckpt", small.net, small.opt, &small.sched, 3, &small.gen);

  auto wide = make_net(5, 3);
  optim::Adam opt(wide->parameters(), optim::AdamOptions(0.1));
  optim::StepLR sched(opt, 4);
  crisp::Generator gen(77);
  const auto weights = wide->state_dict();
  std::map<std::string, Tensor<float>> before;
  for (const auto& [k, t] : weights) before.emplace(k, t.clone());
  try {
    crisp::io::load_checkpoint(dir.path + "/c.ckpt", wide, opt, &sched, &gen);
    FAIL("expected an error");
  } catch (const crisp::Error& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK_THAT(m, Catch::Contains("load_checkpoint") && Catch::Contains("0.weight") && Catch::Contains("[5, 3, 3, 3]") &&
                      Catch::Contains("[4, 3, 3, 3]") && Catch::Contains("state.0.exp_avg") &&
                      Catch::Contains("StepLR") && Catch::Contains("nothing was changed"));
  }
  CHECK(same_bits(wide->state_dict(), before));
  CHECK(opt.param_groups()[0].options().get_lr() == 0.1);
  CHECK(opt.state(wide->parameters()[0]) == nullptr);
  CHECK(sched.last_epoch() == 0);
  CHECK(gen.state() == crisp::Generator(77).state());
}

TEST_CASE("a truncated or corrupted checkpoint is rejected with crisp::Error and changes nothing", "[checkpoint]") {
  TempDir dir(true);
  Run run(1, 2);
  run.train(2);
  const std::string good = dir.path + "/good.ckpt", bad = dir.path + "/bad.ckpt";
  crisp::io::save_checkpoint(good, run.net, run.opt, &run.sched, 2, &run.gen, {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  REQUIRE(8 + header_len < bytes.size());

  Run target(5, 6);
  const auto weights_before = target.net->state_dict();
  std::map<std::string, Tensor<float>> before;
  for (const auto& [k, t] : weights_before) before.emplace(k, t.clone());
  auto rejected = [&](const std::string& content) {
    write_bytes(bad, content);
    try {
      crisp::io::load_checkpoint(bad, target.net, target.opt, &target.sched, &target.gen);
    } catch (const crisp::Error&) {
      return true;
    }
    return false;
  };
  size_t accepted = 0;
  for (size_t n = 0; n < bytes.size(); ++n) accepted += !rejected(bytes.substr(0, n));
  CHECK(accepted == 0);
  // Every byte of the length prefix and the JSON header, flipped two ways; a sample of data bytes.
  size_t flips = 0;
  accepted = 0;
  for (size_t i = 0; i < 8 + header_len; ++i)
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x20)}) {
      std::string c = bytes;
      c[i] = char(uint8_t(c[i]) ^ mask);
      const bool ok = rejected(c);
      if (!ok) UNSCOPED_INFO("accepted a flip of byte " << i << " ('" << bytes[i] << "') with mask " << int(mask));
      accepted += !ok;
      ++flips;
    }
  for (size_t i = 8 + header_len; i < bytes.size(); i += 7) {
    std::string c = bytes;
    c[i] = char(uint8_t(c[i]) ^ 0x10);
    accepted += !rejected(c);
    ++flips;
  }
  INFO(flips << " corrupted files tried");
  CHECK(accepted == 0);
  CHECK(same_bits(target.net->state_dict(), before));
  CHECK(target.sched.last_epoch() == 0);
  // the intact file loads
  CHECK_NOTHROW(crisp::io::load_checkpoint(good, target.net, target.opt, &target.sched, &target.gen));
  CHECK(same_bits(target.net->state_dict(), run.net->state_dict()));
}

TEST_CASE("a crash during a save leaves the previous checkpoint intact", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.path + "/big.ckpt";
  const int64_t n = int64_t(1) << 24;  // 64 MiB of float: a write that takes a while
  auto model = std::make_shared<nn::Module>("Big");
  Tensor<float> w = model->register_parameter("w", crisp::full<float>({n}, 1.0f));
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1));
  crisp::io::save_checkpoint(path, *model, opt, nullptr, 1, nullptr);
  const std::string saved = read_bytes(path);
  {
    crisp::NoGradGuard g;
    w.fill_(2.0f);  // what the interrupted saves try to write
  }

  SECTION("killed by SIGXFSZ when the file size limit is hit half way through the write") {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      struct rlimit core {0, 0}, fsize {uint64_t(n) * 2, uint64_t(n) * 2};
      ::setrlimit(RLIMIT_CORE, &core);
      ::setrlimit(RLIMIT_FSIZE, &fsize);
      crisp::io::save_checkpoint(path, *model, opt, nullptr, 2, nullptr);
      ::_exit(0);  // not reached: the write past the limit kills the process
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGXFSZ);
    const auto partial = temp_files(dir.path, "big.ckpt");
    REQUIRE(partial.size() == 1);  // the half-written temporary, never renamed
    CHECK(fs::file_size(partial[0]) == uint64_t(n) * 2);
  }
  SECTION("killed by SIGKILL while the temporary file is being written") {
    bool killed_mid_save = false;
    for (int attempt = 0; attempt < 5 && !killed_mid_save; ++attempt) {
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        crisp::io::save_checkpoint(path, *model, opt, nullptr, 2, nullptr);
        ::_exit(0);
      }
      const std::string tmp_prefix = "big.ckpt.tmp-" + std::to_string(pid) + "-";
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < deadline) {
        bool seen = false;
        for (const auto& e : fs::directory_iterator(dir.path)) {
          if (e.path().filename().string().rfind(tmp_prefix, 0) != 0) continue;
          struct stat st {};
          if (::stat(e.path().c_str(), &st) == 0 && st.st_size > 0) seen = true;
        }
        if (seen) {
          ::kill(pid, SIGKILL);
          break;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) goto reaped;  // finished first: try again
      }
      {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        // Killed, and before the rename (the temporary is still there; a kill that landed after
        // the rename, during the directory fsync, does not count).
        killed_mid_save = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !temp_files(dir.path, "big.ckpt").empty();
      }
    reaped:
      if (!killed_mid_save) write_bytes(path, saved);  // a completed save: restore and retry
    }
    REQUIRE(killed_mid_save);
  }
  // The previous checkpoint is byte for byte what it was, and loads.
  CHECK(read_bytes(path) == saved);
  auto fresh = std::make_shared<nn::Module>("Big");
  Tensor<float> w2 = fresh->register_parameter("w", crisp::zeros<float>({n}));
  optim::SGD opt2(fresh->parameters(), optim::SGDOptions(0.5));
  const auto info = crisp::io::load_checkpoint(path, *fresh, opt2, nullptr, nullptr);
  CHECK(info.step == 1);
  CHECK(w2.data()[0] == 1.0f);
  CHECK(w2.data()[n - 1] == 1.0f);
  // a later successful save replaces it (and leaves no temporary of its own behind)
  for (const auto& t : temp_files(dir.path, "big.ckpt")) fs::remove(t);
  crisp::io::save_checkpoint(path, *model, opt, nullptr, 3, nullptr);
  CHECK(temp_files(dir.path, "big.ckpt").empty());
  CHECK(crisp::io::load_checkpoint(path, *fresh, opt2, nullptr, nullptr).step == 3);
  CHECK(w2.data()[0] == 2.0f);
}
