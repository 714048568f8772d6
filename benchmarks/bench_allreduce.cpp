// crisp::distributed speed, under mpirun (docs/distributed.md):
//   mpirun -np 2 bench_allreduce                     all-reduce of 4 KiB .. 64 MiB float buffers and
//                                                    a data-parallel train step
//   bench_allreduce --models                         the paper models' gradient bytes and relative
//                                                    step costs, for the scaling model
// allreduce/<bytes>: time per in-place sum over the ranks; counters algbw = bytes / time and
// busbw = 2 (N-1)/N bytes / time (the bytes each rank's link carries in a ring, as nccl-tests
// reports), and x_memcpy = time / (a memcpy of the same bytes in this process): the reference.
// train_step/ddp: forward + backward + Adam of a small deblurring net on this rank's share of a
// global batch of 8 crops 64x64, gradients averaged by DistributedDataParallel; its reference,
// train_step/local, is the same step on the same share without DDP in the same process, so
// ddp/local is the cost of the communication that backward did not hide.
// Iteration counts are fixed (every rank must run the same collectives); rank 0 reports.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "crisp/crisp.hpp"
#include "crisp/distributed/distributed.hpp"

namespace {

using namespace crisp;
namespace dist = crisp::distributed;
using Clock = std::chrono::steady_clock;

std::shared_ptr<dist::ProcessGroup> group() { return dist::init_process_group(); }

double memcpy_seconds(size_t bytes) {
  std::vector<char> a(bytes, 1), b(bytes);
  const int reps = static_cast<int>(std::max<size_t>(3, (64u << 20) / std::max<size_t>(bytes, 1)));
  std::memcpy(b.data(), a.data(), bytes);
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) {
    std::memcpy(b.data(), a.data(), bytes);
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
}

void BM_allreduce(benchmark::State& state) {
  const int64_t bytes = state.range(0);
  auto g = group();
  Tensor<float> t = crisp::ones<float>(Shape{bytes / 4});
  const double ref = memcpy_seconds(static_cast<size_t>(bytes));
  g->barrier();
  for (auto _ : state) {
    const auto t0 = Clock::now();
    g->all_reduce(t);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double n = g->world_size();
  state.counters["algbw_GBps"] = benchmark::Counter(static_cast<double>(bytes) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["busbw_GBps"] = benchmark::Counter(2 * (n - 1) / n * static_cast<double>(bytes) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["memcpy_us"] = ref * 1e6;
  state.counters["ranks"] = n;
}

// A small deblurring net: SemanticDeblurNet without semantics, 32 channels, 2 ResBlocks per scale.
struct StepSetup {
  models::SemanticDeblurNet net{nullptr};
  std::unique_ptr<optim::Adam> adam;
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  Tensor<float> x, y;
};
StepSetup make_step(bool with_ddp) {
  auto g = group();
  StepSetup s;
  Generator gen(1);
  s.net = models::SemanticDeblurNet(models::SemanticDeblurNetOptions().semantics(false).channels(32).num_resblocks(2), gen);
  s.adam = std::make_unique<optim::Adam>(s.net->parameters(), optim::AdamOptions(1e-4));
  if (with_ddp) s.ddp = std::make_unique<dist::DistributedDataParallel>(s.net, g);
  const int64_t global = 8, share = global / g->world_size();
  s.x = crisp::rand<float>(Shape{share, 3, 64, 64}, gen);
  s.y = crisp::rand<float>(Shape{share, 3, 64, 64}, gen);
  return s;
}
void run_step(StepSetup& s) {
  s.adam->zero_grad();
  if (s.ddp) s.ddp->pre_forward();
  auto out = s.net(s.x, Tensor<float>{});
  Tensor<float> loss = crisp::loss::l1(out.scale2, s.y);
  loss.backward();
  s.adam->step();
}
void BM_train_step(benchmark::State& state) {
  const bool with_ddp = state.range(0) != 0;
  StepSetup s = make_step(with_ddp);
  run_step(s);  // warm-up: allocations, first-touch
  group()->barrier();
  for (auto _ : state) {
    const auto t0 = Clock::now();
    run_step(s);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  state.SetLabel(with_ddp ? "ddp" : "local");
  int64_t grad_bytes = 0;
  for (auto& p : s.net->parameters()) grad_bytes += p.numel() * 4;
  state.counters["grad_MB"] = grad_bytes / 1e6;
  state.counters["ranks"] = group()->world_size();
  state.counters["per_rank_batch"] = static_cast<double>(s.x.size(0));
}

// ---- --models: gradient bytes and relative step cost of the paper models ----------------------
template <class Net, class F>
void model_row(const char* name, Net& net, F&& step, double batch) {
  int64_t params = 0;
  for (auto& p : net->parameters())
    if (p.requires_grad()) params += p.numel();
  step();  // warm-up
  const auto t0 = Clock::now();
  step();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-34s %12lld %10.2f %12.3f\n", name, static_cast<long long>(params), params * 4 / 1e6, s / batch);
  std::fflush(stdout);
}
int models_table() {
  Generator g(1);
  std::printf("%-34s %12s %10s %12s\n", "model (fp32 gradients)", "parameters", "grad MB", "cpu s/sample");
  std::printf("(fwd+bwd, batch 1, 128x128, this CPU, OMP_NUM_THREADS=%s)\n",
              std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "default");
  const Tensor<float> x = crisp::rand<float>(Shape{1, 3, 128, 128}, g);
  const Tensor<float> probs = crisp::rand<float>(Shape{1, 11, 128, 128}, g);
  {
    models::SemanticDeblurNet net(models::SemanticDeblurNetOptions(), g);
    model_row("SemanticDeblurNet (paper 1)", net, [&] {
      auto o = net(x, probs);
      crisp::sum(o.scale2).backward();
    }, 1);
  }
  {
    models::DCGANDiscriminator net(models::DCGANDiscriminatorOptions(), g);
    model_row("DCGANDiscriminator (paper 1)", net, [&] { crisp::sum(net(x)).backward(); }, 1);
  }
  {
    models::FaceParsingNet net(models::FaceParsingNetOptions(), g);
    model_row("FaceParsingNet (paper 1)", net, [&] { crisp::sum(net(x)).backward(); }, 1);
  }
  {
    models::SRN net(models::SRNOptions(), g);
    model_row("SRN (paper 2)", net, [&] { crisp::sum(net(x).back()).backward(); }, 1);
  }
  {
    models::ResnetGenerator net(models::ResnetGeneratorOptions(3, 3), g);
    model_row("CycleGAN ResnetGenerator x1 (p. 2)", net, [&] { crisp::sum(net(x)).backward(); }, 1);
  }
  {
    models::NLayerDiscriminator net(models::NLayerDiscriminatorOptions(3), g);
    model_row("CycleGAN NLayerDiscriminator x1", net, [&] { crisp::sum(net(x)).backward(); }, 1);
  }
  return 0;
}

}  // namespace

BENCHMARK(BM_allreduce)->RangeMultiplier(4)->Range(4 << 10, 64 << 20)->Iterations(20)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_train_step)->Arg(0)->Arg(1)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--models") return models_table();
  auto g = dist::init_process_group(dist::InitOptions{std::chrono::seconds(600), false});
  benchmark::Initialize(&argc, argv);
  if (g->rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    std::ostringstream sink;
    benchmark::ConsoleReporter quiet;
    quiet.SetOutputStream(&sink);
    quiet.SetErrorStream(&sink);
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  dist::finalize();
  return 0;
}
