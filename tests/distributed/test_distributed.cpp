// crisp::distributed under mpirun (CTest label `distributed`, 2 ranks; also passes as 1 rank):
// collectives, the distributed sampler, DistributedDataParallel against single-process training
// on the same global batch (double 1e-10, float 1e-5 relative), bitwise-equal replicas after every
// step, no_sync, frozen parameters, BatchNorm buffers, mismatched parameter lists, the GAN path
// (two modules, two optimisers) and resuming from rank 0's checkpoint. Hidden cases [.fault] are
// run by fault_test.cmake: one rank dies or hangs, and the job must end with an error.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <crisp/crisp.hpp>
#include <crisp/distributed/distributed.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace dist = crisp::distributed;
namespace nn = crisp::nn;
namespace optim = crisp::optim;
using crisp::Generator;
using crisp::Shape;
using crisp::Tensor;

namespace {

std::shared_ptr<dist::ProcessGroup> pg() { return dist::init_process_group(); }

// A small conv net: conv 3->4 3x3, ReLU, conv 4->4 stride 2, ReLU, conv 4->2 1x1, (BatchNorm).
template <class T>
struct SmallNetImpl : nn::ModuleT<T> {
  SmallNetImpl(Generator& gen, bool batch_norm = false, bool extra = false) {
    c1 = this->register_module("c1", nn::Conv2dT<T>(nn::Conv2dOptions(3, 4, 3).padding(1), gen));
    c2 = this->register_module("c2", nn::Conv2dT<T>(nn::Conv2dOptions(4, 4, 3).stride(2).padding(1), gen));
    if (batch_norm) bn = this->register_module("bn", nn::BatchNorm2dT<T>(nn::BatchNorm2dOptions(4)));
    c3 = this->register_module("c3", nn::Conv2dT<T>(nn::Conv2dOptions(4, 2, 1), gen));
    if (extra) c4 = this->register_module("c4", nn::Conv2dT<T>(nn::Conv2dOptions(2, 2, 1), gen));
  }
  Tensor<T> forward(const Tensor<T>& x) {
    Tensor<T> h = crisp::relu(c1(x));
    h = c2(h);
    if (!bn.is_empty()) h = bn(h);
    h = c3(crisp::relu(h));
    if (!c4.is_empty()) h = c4(h);
    return h;
  }
  nn::Conv2dT<T> c1{nullptr}, c2{nullptr}, c3{nullptr}, c4{nullptr};
  nn::BatchNorm2dT<T> bn{nullptr};
};
template <class T>
using SmallNet = nn::ModuleHolder<SmallNetImpl<T>>;

// The global batch of step s: the same on every rank; rank r trains on rows [r*B/R, (r+1)*B/R).
template <class T>
std::pair<Tensor<T>, Tensor<T>> global_batch(int64_t step, int64_t batch) {
  Generator g(1000 + static_cast<uint64_t>(step));
  return {crisp::randn<T>(Shape{batch, 3, 8, 8}, g), crisp::randn<T>(Shape{batch, 2, 4, 4}, g)};
}
template <class T>
Tensor<T> rows(const Tensor<T>& t, int64_t begin, int64_t end) {
  return t.slice(0, begin, end).contiguous();
}

template <class T>
std::vector<T> flat_params(nn::ModuleT<T>& m) {
  std::vector<T> out;
  for (auto& p : m.parameters()) {
    Tensor<T> c = p.contiguous();
    out.insert(out.end(), c.data_ptr(), c.data_ptr() + c.numel());
  }
  for (auto& b : m.buffers()) {
    Tensor<T> c = b.contiguous();
    out.insert(out.end(), c.data_ptr(), c.data_ptr() + c.numel());
  }
  return out;
}
// True when every rank's parameters and buffers are bitwise rank 0's.
template <class T>
bool replicas_bitwise_equal(nn::ModuleT<T>& m) {
  std::vector<T> mine = flat_params(m);
  Tensor<T> t = Tensor<T>::empty(Shape{static_cast<int64_t>(mine.size())});
  std::memcpy(t.data_ptr(), mine.data(), mine.size() * sizeof(T));
  pg()->broadcast(t, 0);
  const int64_t same = std::memcmp(t.data_ptr(), mine.data(), mine.size() * sizeof(T)) == 0 ? 1 : 0;
  return pg()->all_reduce_value(static_cast<double>(same), dist::ReduceOp::Min) == 1.0;
}
template <class T>
double max_rel_diff(nn::ModuleT<T>& a, nn::ModuleT<T>& b) {
  const auto x = flat_params(a), y = flat_params(b);
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(double(x[i]) - double(y[i])) / std::max(1e-3, std::abs(double(y[i]))));
  return worst;
}

template <class T>
void copy_weights(nn::ModuleT<T>& from, nn::ModuleT<T>& to) {
  to.load_state_dict(from.state_dict());
}

// 20 SGD-momentum steps with DDP on this rank's share vs the same steps on the whole batch in
// this process; both must agree and the replicas must stay bitwise equal.
template <class T>
void ddp_matches_single_process(double tol) {
  auto group = pg();
  const int R = group->world_size(), r = group->rank();
  const int64_t B = 4;
  REQUIRE(B % R == 0);
  Generator g0(7 + static_cast<uint64_t>(r));  // different init per rank: DDP must broadcast rank 0's
  SmallNet<T> net(g0);
  dist::DistributedDataParallelT<T> ddp(net, group);
  Generator g1(99);
  SmallNet<T> ref(g1);
  copy_weights<T>(*net, *ref);
  optim::SGDT<T> opt(net->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  optim::SGDT<T> opt_ref(ref->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  for (int64_t step = 0; step < 20; ++step) {
    auto [x, y] = global_batch<T>(step, B);
    opt.zero_grad();
    ddp.pre_forward();
    auto loss = crisp::loss::mse(net(rows(x, r * B / R, (r + 1) * B / R)), rows(y, r * B / R, (r + 1) * B / R));
    loss.backward();
    opt.step();
    opt_ref.zero_grad();
    crisp::loss::mse(ref(x), y).backward();
    opt_ref.step();
    REQUIRE(replicas_bitwise_equal<T>(*net));
  }
  CHECK(ddp.reductions() == 20);
  const double d = max_rel_diff<T>(*net, *ref);
  INFO("max relative difference to single-process training: " << d);
  CHECK(d < tol);
}

}  // namespace

TEST_CASE("launch: rank and size agree with the launcher's environment") {
  auto group = pg();
  const dist::LaunchEnv env = dist::launch_env();
  if (env.source != "none") {
    CHECK(env.rank == group->rank());
    CHECK(env.world_size == group->world_size());
  }
  CHECK(group->local_rank() >= 0);
  CHECK(group->local_rank() < group->world_size());
  if (group->rank() == 0) std::printf("distributed tests: %d rank(s)\n", group->world_size());
}

TEST_CASE("collectives: all_reduce on a list, broadcast, all_gather, barrier") {
  auto group = pg();
  const int R = group->world_size(), r = group->rank();
  Tensor<double> a = crisp::full<double>(Shape{3}, r + 1.0);
  Tensor<float> b = crisp::full<float>(Shape{2, 2}, 2.f * r);
  group->all_reduce(std::vector<Tensor<double>>{a});
  CHECK(a(0) == R * (R + 1) / 2.0);
  Tensor<double> c = crisp::full<double>(Shape{5}, double(r)), d = crisp::full<double>(Shape{1}, 1.0);
  group->all_reduce(std::vector<Tensor<double>>{c, d});  // packed: one collective for the list
  CHECK(c(4) == R * (R - 1) / 2.0);
  CHECK(d(0) == R);
  group->all_reduce(b, dist::ReduceOp::Max);
  CHECK(b(1, 1) == 2.f * (R - 1));
  Tensor<int64_t> e = crisp::full<int64_t>(Shape{2}, int64_t(10 + r));
  group->broadcast(e, R - 1);
  CHECK(e(0) == 10 + R - 1);
  auto parts = group->all_gather(crisp::full<float>(Shape{2}, float(r)));
  REQUIRE(parts.size() == static_cast<size_t>(R));
  for (int k = 0; k < R; ++k) CHECK(parts[k](1) == float(k));
  CHECK(group->all_gather_value(r * 3)[R - 1] == 3 * (R - 1));
  CHECK(group->broadcast_string(r == 0 ? "from rank 0" : "", 0) == "from rank 0");
  group->barrier();
  // Asynchronous: the result is there once the Work completes.
  Tensor<float> f = crisp::ones<float>(Shape{1000});
  auto w = group->all_reduce_async(std::vector<Tensor<float>>{f});
  w->wait();
  CHECK(f(999) == float(R));
  CHECK_THROWS_WITH(group->broadcast(a, R), Catch::Contains("expected a root rank in [0, "));
  CHECK_THROWS_WITH(group->all_reduce(crisp::zeros<double>(Shape{2, 3}).t()), Catch::Contains("contiguous"));
}

TEST_CASE("distributed sampler: disjoint equal shards, reshuffled per epoch, deterministic") {
  for (int64_t n : {10, 11, 3}) {
    for (int64_t R : {1, 2, 3}) {
      std::vector<std::vector<int64_t>> shards;
      std::vector<int64_t> all;
      for (int64_t r = 0; r < R; ++r) {
        crisp::data::DistributedSampler s(n, {.num_replicas = R, .rank = r, .shuffle = true, .seed = 5});
        shards.push_back(s.indices(0));
        CHECK(shards.back().size() == static_cast<size_t>(s.size()));
        CHECK(shards.back().size() == static_cast<size_t>((n + R - 1) / R));
        CHECK(s.indices(0) == shards.back());       // deterministic
        if (n > 3) CHECK(s.indices(1) != shards.back());  // a new order per epoch
        all.insert(all.end(), shards.back().begin(), shards.back().end());
      }
      std::sort(all.begin(), all.end());
      const auto distinct = std::unique(all.begin(), all.end()) - all.begin();
      CHECK(distinct == n);  // every sample is read; only the padding repeats some
      CHECK(static_cast<int64_t>(all.size()) - n < R);
      // drop_last: exactly disjoint, none repeated.
      std::vector<int64_t> cut;
      for (int64_t r = 0; r < R; ++r) {
        auto idx = crisp::data::DistributedSampler(n, {.num_replicas = R, .rank = r, .drop_last = true}).indices(3);
        CHECK(idx.size() == static_cast<size_t>(n / R));
        cut.insert(cut.end(), idx.begin(), idx.end());
      }
      std::sort(cut.begin(), cut.end());
      CHECK(std::adjacent_find(cut.begin(), cut.end()) == cut.end());
    }
  }
  CHECK_THROWS_WITH(crisp::data::DistributedSampler(4, {.num_replicas = 2, .rank = 2}),
                    Catch::Contains("expected 0 <= rank < num_replicas"));
}

TEST_CASE("DataLoader with num_replicas / rank reads this rank's shard") {
  struct Ids {
    using Sample = int64_t;
    using Batch = std::vector<int64_t>;
    int64_t size() const { return 9; }
    Sample get(int64_t i, Generator&) const { return i; }
    static Batch collate(std::vector<Sample> s) { return s; }
  };
  std::vector<int64_t> seen;
  for (int64_t r = 0; r < 2; ++r) {
    crisp::data::DataLoaderOptions o;
    o.batch_size = 2;
    o.shuffle = true;
    o.seed = 3;
    o.num_replicas = 2;
    o.rank = r;
    crisp::data::DataLoader<Ids> loader(Ids{}, o);
    CHECK(loader.num_batches() == 3);  // 5 samples each (9 padded to 10), batches of 2, 2, 1
    for (auto& b : loader) seen.insert(seen.end(), b.begin(), b.end());
  }
  CHECK(seen.size() == 10);
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) - seen.begin() == 9);
}

TEST_CASE("DDP: 20 steps equal single-process training on the global batch (double)") {
  ddp_matches_single_process<double>(1e-10);
}

TEST_CASE("DDP: 20 steps equal single-process training on the global batch (float)") {
  ddp_matches_single_process<float>(1e-5);
}

TEST_CASE("DDP: buckets, frozen parameters, no_sync") {
  auto group = pg();
  const int R = group->world_size(), r = group->rank();
  Generator g0(3);
  SmallNet<double> net(g0);
  net->c1->weight.requires_grad_(false);  // frozen: never reduced, never changed
  dist::DistributedDataParallelT<double> ddp(net, group, dist::DistributedDataParallelOptions().bucket_cap_mb(0.0005));
  CHECK(ddp.num_buckets() > 1);  // a 512-byte cap splits the net
  const auto names = ddp.bucket_names();
  CHECK(names.front().front() == "c3.bias");  // reverse registration order: backward's order
  for (const auto& b : names)
    for (const auto& n : b) CHECK(n != "c1.weight");
  // no_sync: two local micro-batches accumulate, the third backward reduces the sum.
  Generator g1(3);
  SmallNet<double> ref(g1);
  const int64_t B = 2 * R;
  for (auto& p : net->parameters()) p.impl().grad.reset();
  {
    auto guard = ddp.no_sync();
    for (int k = 0; k < 2; ++k) {
      auto [x, y] = global_batch<double>(k, B);
      crisp::loss::mse(net(rows(x, 2 * r, 2 * r + 2)), rows(y, 2 * r, 2 * r + 2)).backward();
    }
  }
  CHECK(ddp.reductions() == 0);
  auto [x, y] = global_batch<double>(2, B);
  crisp::loss::mse(net(rows(x, 2 * r, 2 * r + 2)), rows(y, 2 * r, 2 * r + 2)).backward();
  CHECK(ddp.reductions() == 1);
  for (int k = 0; k < 3; ++k) {
    auto [xk, yk] = global_batch<double>(k, B);
    crisp::loss::mse(ref(xk), yk).backward();
  }
  auto pn = net->named_parameters(), pr = ref->named_parameters();
  for (const auto& [name, p] : pn) {
    if (name == "c1.weight") {
      CHECK(!p.grad().defined());
      continue;
    }
    const Tensor<double> a = p.grad(), b = pr.at(name).grad();
    for (int64_t i = 0; i < a.numel(); ++i) CHECK(std::abs(a.data_ptr()[i] - b.data_ptr()[i]) <= 1e-12);
  }
  // A backward that reaches only part of the net leaves buckets pending: forward refuses.
  ref->zero_grad();
  net->zero_grad();
  {
    auto h = net->c1(rows(x, 2 * r, 2 * r + 2));
    crisp::sum(h).backward();  // only c1.bias gets a gradient
  }
  CHECK_THROWS_WITH(ddp.pre_forward(), Catch::Contains("no gradient reached 'c3.bias'"));
  ddp.finish_gradient_sync();
  ddp.pre_forward();
  CHECK(replicas_bitwise_equal<double>(*net));
}

TEST_CASE("DDP: BatchNorm buffers come from rank 0 at every forward") {
  auto group = pg();
  const int r = group->rank();
  Generator g0(4);
  SmallNet<double> net(g0, true);
  dist::DistributedDataParallelT<double> ddp(net, group);
  optim::AdamT<double> adam(net->parameters(), optim::AdamOptions(1e-2));
  for (int64_t step = 0; step < 3; ++step) {
    auto [x, y] = global_batch<double>(step + 10 * r, 4);  // different data per rank
    adam.zero_grad();
    ddp.pre_forward();
    CHECK(replicas_bitwise_equal<double>(*net));  // running stats too, broadcast from rank 0
    crisp::loss::mse(net(x), y).backward();
    adam.step();
  }
}

TEST_CASE("DDP: mismatched parameter lists are an error on every rank") {
  auto group = pg();
  if (group->world_size() == 1) {
    WARN("SKIPPED: needs 2 ranks (run under mpirun -np 2)");
    return;
  }
  Generator g(1);
  SmallNet<double> net(g, false, group->rank() == 1);  // rank 1 has an extra layer
  CHECK_THROWS_WITH((dist::DistributedDataParallelT<double>(net, group)),
                    Catch::Contains("rank(s) 1 differ from rank 0") && Catch::Contains("c4.weight"));
}

TEST_CASE("DDP: GAN path - two modules, two optimisers - equals single process, replicas in sync") {
  auto group = pg();
  const int R = group->world_size(), r = group->rank();
  const int64_t B = 4;
  Generator gg(11 + r), gd(21 + r);
  SmallNet<double> G(gg);  // 3 -> 2 channels at half resolution
  auto make_d = [](Generator& g) {
    return nn::SequentialT<double>(nn::Conv2dT<double>(nn::Conv2dOptions(2, 4, 3).padding(1), g),
                                   nn::Conv2dT<double>(nn::Conv2dOptions(4, 1, 4), g));
  };
  auto D = make_d(gd);
  dist::DistributedDataParallelT<double> ddp_g(G, group), ddp_d(D, group);
  Generator h1(5), h2(6);
  SmallNet<double> G_ref(h1);
  auto D_ref = make_d(h2);
  copy_weights<double>(*G, *G_ref);
  copy_weights<double>(*D, *D_ref);
  optim::AdamT<double> opt_g(G->parameters(), optim::AdamOptions(1e-3)), opt_d(D->parameters(), optim::AdamOptions(1e-3));
  optim::AdamT<double> ref_g(G_ref->parameters(), optim::AdamOptions(1e-3)),
      ref_d(D_ref->parameters(), optim::AdamOptions(1e-3));
  auto gan_step = [&](auto& g, auto& d, auto& og, auto& od, const Tensor<double>& x, const Tensor<double>& real,
                      auto pre_g, auto pre_d) {
    // D: real and fake in two backward passes (each reduces); G: through D (D's grads reduce too).
    od.zero_grad();
    pre_g();
    Tensor<double> fake = g(x);
    pre_d();
    crisp::loss::mse(d(real), crisp::ones_like(d(real).detach())).backward();
    pre_d();
    crisp::loss::mse(d(fake.detach()), crisp::zeros_like(d(real).detach())).backward();
    od.step();
    og.zero_grad();
    od.zero_grad();
    pre_d();
    crisp::loss::mse(d(fake), crisp::ones_like(d(real).detach())).backward();
    og.step();
  };
  for (int64_t step = 0; step < 5; ++step) {
    auto [x, real] = global_batch<double>(step, B);
    gan_step(G, D, opt_g, opt_d, rows(x, r * B / R, (r + 1) * B / R), rows(real, r * B / R, (r + 1) * B / R),
             [&] { ddp_g.pre_forward(); }, [&] { ddp_d.pre_forward(); });
    gan_step(G_ref, D_ref, ref_g, ref_d, x, real, [] {}, [] {});
    REQUIRE(replicas_bitwise_equal<double>(*G));
    REQUIRE(replicas_bitwise_equal<double>(*D));
  }
  CHECK(max_rel_diff<double>(*G, *G_ref) < 1e-10);
  CHECK(max_rel_diff<double>(*D, *D_ref) < 1e-10);
}

TEST_CASE("DDP: resuming from rank 0's checkpoint equals the uninterrupted run") {
  auto group = pg();
  const int R = group->world_size(), r = group->rank();
  const int64_t B = 4;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("crisp_dist_resume_" + group->broadcast_string(std::to_string(::getpid()), 0)))
                              .string();
  const std::string ckpt = dir + "/ckpt.safetensors";
  auto train = [&](SmallNet<double>& net, optim::AdamT<double>& adam, dist::DistributedDataParallelT<double>& ddp,
                   int64_t from, int64_t to) {
    for (int64_t step = from; step < to; ++step) {
      auto [x, y] = global_batch<double>(step, B);
      adam.zero_grad();
      ddp.pre_forward();
      crisp::loss::mse(net(rows(x, r * B / R, (r + 1) * B / R)), rows(y, r * B / R, (r + 1) * B / R)).backward();
      adam.step();
    }
  };
  Generator g(1);
  SmallNet<double> full(g);
  optim::AdamT<double> adam_full(full->parameters(), optim::AdamOptions(1e-2));
  dist::DistributedDataParallelT<double> ddp_full(full, group);
  train(full, adam_full, ddp_full, 0, 10);
  if (r == 0) {
    std::filesystem::create_directories(dir);
    crisp::io::save_checkpoint(ckpt, full, adam_full, nullptr, 10, nullptr);
  }
  group->barrier();
  train(full, adam_full, ddp_full, 10, 20);
  // A fresh job: other initial weights, rank 0's checkpoint read by every rank (one file system).
  Generator g2(50 + r);
  SmallNet<double> resumed(g2);
  optim::AdamT<double> adam2(resumed->parameters(), optim::AdamOptions(1e-2));
  const auto info = crisp::io::load_checkpoint(ckpt, resumed, adam2, nullptr, nullptr);
  CHECK(info.step == 10);
  dist::DistributedDataParallelT<double> ddp2(resumed, group);
  train(resumed, adam2, ddp2, 10, 20);
  CHECK(max_rel_diff<double>(*resumed, *full) == 0.0);
  CHECK(replicas_bitwise_equal<double>(*resumed));
  group->barrier();
  if (r == 0) std::filesystem::remove_all(dir);
}

TEST_CASE("NCCL: collectives on CUDA tensors, one GPU per rank") {
#if defined(CRISP_WITH_NCCL)
  auto group = pg();
  if (!group->has_cuda_backend()) {
    WARN("SKIPPED: NCCL needs one CUDA device per rank on this machine; " << crisp::cuda::device_count()
                                                                           << " visible for " << group->world_size()
                                                                           << " rank(s)");
    return;
  }
  const int R = group->world_size(), r = group->rank();
  const crisp::Device dev = crisp::Device::cuda(group->local_rank());
  Tensor<float> a = crisp::full<float>(Shape{1 << 20}, float(r + 1)).to(dev);
  Tensor<double> b = crisp::full<double>(Shape{7}, double(r)).to(dev);
  group->all_reduce(a);
  group->broadcast(b, R - 1);
  auto parts = group->all_gather(crisp::full<float>(Shape{3}, float(r)).to(dev));
  CHECK(a.to(crisp::Device::cpu())((1 << 20) - 1) == R * (R + 1) / 2.f);
  CHECK(b.to(crisp::Device::cpu())(6) == R - 1.0);
  for (int k = 0; k < R; ++k) CHECK(parts[k].to(crisp::Device::cpu())(2) == float(k));
  // DDP over device parameters: replicas stay equal, gradients are the mean.
  Generator g(1 + r);
  SmallNet<float> net(g);
  net->to(dev);
  dist::DistributedDataParallelT<float> ddp(net, group);
  optim::AdamT<float> adam(net->parameters(), optim::AdamOptions(1e-3));
  for (int64_t step = 0; step < 3; ++step) {
    auto [x, y] = global_batch<float>(step + 10 * r, 2);
    adam.zero_grad();
    ddp.pre_forward();
    crisp::loss::mse(net(x.to(dev)), y.to(dev)).backward();
    adam.step();
  }
  net->to(crisp::Device::cpu());
  CHECK(replicas_bitwise_equal<float>(*net));
#else
  WARN("SKIPPED: this build has no NCCL backend (CUDA off or NCCL not found)");
#endif
}

// ---- faults, run by fault_test.cmake ----------------------------------------------------------
TEST_CASE("fault: rank 1 is killed in the middle of training", "[.fault_kill]") {
  auto group = pg();
  Tensor<float> t = crisp::ones<float>(Shape{1000});
  for (int step = 0; step < 5; ++step) {
    if (step == 3 && group->rank() == 1) raise(SIGKILL);
    group->all_reduce(t);
  }
}

TEST_CASE("fault: rank 1 never joins a collective", "[.fault_hang]") {
  auto group = pg();
  Tensor<float> t = crisp::ones<float>(Shape{1000});
  for (int step = 0; step < 5; ++step) {
    if (step == 3 && group->rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(120));
    group->all_reduce(t);
  }
}

int main(int argc, char** argv) {
  // CRISP_DIST_TIMEOUT_S: the collectives' deadline (the fault tests use a short one).
  dist::InitOptions opt;
  if (const char* s = std::getenv("CRISP_DIST_TIMEOUT_S")) opt.timeout = std::chrono::milliseconds(
      static_cast<int64_t>(std::atof(s) * 1000));
  else opt.timeout = std::chrono::seconds(60);
#if defined(CRISP_WITH_NCCL)
  // NCCL wants a GPU of its own per rank: use it when this machine has enough for its ranks.
  const dist::LaunchEnv env = dist::launch_env();
  const char* local_size = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  opt.cuda = crisp::cuda::device_count() >= (local_size ? std::atoi(local_size) : env.world_size);
#endif
  auto group = dist::init_process_group(opt);
  const int rc = Catch::Session().run(argc, argv);
  // A rank whose checks failed must fail the job; the others agree before finalising.
  const double worst = group->all_reduce_value(rc, dist::ReduceOp::Max);
  dist::finalize();
  return static_cast<int>(worst);
}
