// DistributedDataParallel: data-parallel training of any module over a ProcessGroup, as
// torch.nn.parallel.DistributedDataParallel. Every rank holds a full replica; after each backward
// every trainable parameter's .grad() is the mean of the ranks' gradients, so identical optimiser
// steps keep the replicas identical.
#pragma once

// How (PyTorch's design):
// - construction checks that all ranks hold the same parameter list (names, shapes, which are
//   trainable) and broadcasts parameters and buffers from rank 0 (sync_module_states(), also
//   the call to make after loading a checkpoint on rank 0 only);
// - trainable parameters are grouped, in reverse registration order (about the order backward
//   produces their gradients), into buckets of at most bucket_cap_mb; frozen ones are skipped;
// - a post-accumulate hook on each parameter (autograd/node.hpp) counts the bucket's gradients;
//   a complete bucket is all-reduced asynchronously while backward goes on, always in bucket
//   order (every rank must issue the same collectives in the same order), and once the last
//   bucket has been launched the hook waits for all of them and divides by the world size -
//   backward returns with averaged gradients;
// - forward() first broadcasts rank 0's buffers (BatchNorm running statistics: PyTorch's
//   broadcast_buffers=True) and checks that the previous backward's reduction completed;
// - no_sync() scopes backward passes that only accumulate locally (gradient accumulation); the
//   first backward after the scope reduces the accumulated sum;
// - a backward that reached only some parameters (a branch unused this step) leaves buckets
//   pending: finish_gradient_sync() reduces them with zeros for the missing gradients; forward()
//   refuses to start over pending buckets, naming the parameters that got no gradient.
// Several backward passes per step (a GAN's D loss on real and fake) each reduce; since every
// rank adds the same averaged part first, the result is still the mean over ranks. Limitation:
// within one round (before every bucket has been reduced), a gradient that arrives for a
// parameter whose bucket is already in flight is overwritten by the reduced value; PyTorch
// reports this case as an error ("marked ready twice"), crisp does not detect it yet.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crisp/autograd/node.hpp"
#include "crisp/distributed/process_group.hpp"
#include "crisp/nn/module.hpp"
#include "crisp/nn/options.hpp"

namespace crisp::distributed {

struct DistributedDataParallelOptions {
  CRISP_ARG(double, bucket_cap_mb) = 25.0;
  CRISP_ARG(bool, broadcast_buffers) = true;
};

template <class T>
class DistributedDataParallelT {
 public:
  DistributedDataParallelT(std::shared_ptr<nn::ModuleT<T>> module, std::shared_ptr<ProcessGroup> group,
                           DistributedDataParallelOptions opt = {})
      : module_(std::move(module)), group_(std::move(group)), opt_(opt), state_(std::make_shared<State>()) {
    const char* op = "DistributedDataParallel";
    CRISP_CHECK(module_ != nullptr && group_ != nullptr, ValueError, op, "expected a module and a process group");
    CRISP_CHECK(opt_.bucket_cap_mb() > 0, ValueError, op, "expected bucket_cap_mb > 0, got ", opt_.bucket_cap_mb());
    check_same_parameters();
    sync_module_states();
    build_buckets();
  }
  // Any module handle: a ModuleHolder (nn::Conv2d, a model) or a shared_ptr to a module.
  template <class M>
    requires requires(const M& m) { m.ptr(); }
  DistributedDataParallelT(const M& holder, std::shared_ptr<ProcessGroup> group, DistributedDataParallelOptions opt = {})
      : DistributedDataParallelT(std::static_pointer_cast<nn::ModuleT<T>>(holder.ptr()), std::move(group), opt) {}

  ~DistributedDataParallelT() {
    for (size_t i = 0; i < state_->params.size(); ++i)
      autograd::remove_post_accumulate_grad_hook(state_->params[i], state_->hook_ids[i]);
  }
  DistributedDataParallelT(const DistributedDataParallelT&) = delete;
  DistributedDataParallelT& operator=(const DistributedDataParallelT&) = delete;

  nn::ModuleT<T>& module() const { return *module_; }
  ProcessGroup& group() const { return *group_; }
  // Buckets as lists of parameter names, in reduction order.
  std::vector<std::vector<std::string>> bucket_names() const {
    std::vector<std::vector<std::string>> out;
    for (const auto& b : state_->buckets) {
      out.emplace_back();
      for (size_t i : b.params) out.back().push_back(state_->names[i]);
    }
    return out;
  }

  // Broadcasts buffers (when broadcast_buffers) and then calls module.forward(args...).
  template <class M, class... Args>
  auto forward_as(Args&&... args) {
    pre_forward();
    return static_cast<M&>(*module_).forward(std::forward<Args>(args)...);
  }
  // The checks and buffer broadcast of a forward, for modules called through their own API.
  void pre_forward() {
    const auto pending = pending_parameters();
    CRISP_CHECK(pending.empty(), DistributedError, "DistributedDataParallel::forward",
                "the previous backward left gradients unreduced: no gradient reached ", pending,
                " (parameters unused in that forward?); call finish_gradient_sync() after such a backward, or freeze "
                "them (requires_grad false) before wrapping the module");
    if (opt_.broadcast_buffers() && group_->world_size() > 1) {
      auto bufs = module_->buffers();
      std::vector<Tensor<T>> floats;
      for (auto& b : bufs)
        if (b.defined()) floats.push_back(b);
      group_->broadcast(floats, 0);
    }
  }

  // Overwrites every rank's parameters and buffers with rank 0's.
  void sync_module_states() {
    if (group_->world_size() == 1) return;
    std::vector<Tensor<T>> ts;
    for (auto& p : module_->parameters())
      if (p.defined()) ts.push_back(p);
    for (auto& b : module_->buffers())
      if (b.defined()) ts.push_back(b);
    NoGradGuard ng;
    group_->broadcast(ts, 0);
  }

  // Reduces buckets a backward left incomplete (zeros for parameters it did not reach).
  void finish_gradient_sync() {
    State& s = *state_;
    if (s.ready_count == 0) return;
    std::vector<size_t> missing;  // listed first: the last mark_ready ends the round and clears `ready`
    for (size_t i = 0; i < s.params.size(); ++i)
      if (!s.ready[i]) missing.push_back(i);
    for (size_t i : missing) {
      Tensor<T>& p = s.params[i];
      if (!p.grad().defined()) {
        Tensor<T> z = Tensor<T>::empty(p.shape(), p.device());
        z.zero_();
        p.impl().grad = z.impl_ptr();
      }
      s.mark_ready(i);
    }
  }

  // Within the scope, backward only accumulates locally (torch's no_sync()).
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(DistributedDataParallelT& d) : s_(d.state_), prev_(s_->sync) { s_->sync = false; }
    ~NoSyncGuard() { s_->sync = prev_; }
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    std::shared_ptr<typename DistributedDataParallelT::State> s_;
    bool prev_;
  };
  NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  // Counters for tests and logs.
  int64_t reductions() const { return state_->reductions; }
  size_t num_buckets() const { return state_->buckets.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;
    size_t pending = 0;
    std::shared_ptr<Work> work;
  };
  // Shared with the hooks, which outlive nothing: they hold it weakly.
  struct State {
    ProcessGroup* group = nullptr;
    std::vector<Tensor<T>> params;  // trainable, in bucket order
    std::vector<std::string> names;
    std::vector<uint64_t> hook_ids;
    std::vector<size_t> bucket_of;
    std::vector<bool> ready;
    std::vector<Bucket> buckets;
    size_t ready_count = 0, next_launch = 0;
    bool sync = true;
    int64_t reductions = 0;

    void mark_ready(size_t i) {
      if (ready[i]) return;  // a second backward within one round: the first already counted it
      ready[i] = true;
      ++ready_count;
      Bucket& b = buckets[bucket_of[i]];
      --b.pending;
      // Launch, in bucket order, every bucket that is complete.
      while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
        Bucket& nb = buckets[next_launch++];
        std::vector<Tensor<T>> grads;
        for (size_t k : nb.params) grads.push_back(params[k].grad());
        nb.work = group->all_reduce_async(grads);
      }
      for (size_t k = 0; k < next_launch; ++k)
        if (buckets[k].work) buckets[k].work->test();  // drives MPI's progress while backward runs
      if (next_launch == buckets.size()) finish_round();
    }
    void finish_round() {
      const T scale = T(1) / static_cast<T>(group->world_size());
      for (auto& b : buckets) {
        b.work->wait();
        b.work.reset();
        if (group->world_size() > 1)
          for (size_t k : b.params) params[k].grad().mul_(scale);
        b.pending = b.params.size();
      }
      std::fill(ready.begin(), ready.end(), false);
      ready_count = 0;
      next_launch = 0;
      ++reductions;
    }
  };

  std::string pending_parameters() const {
    std::string out;
    const State& s = *state_;
    if (s.ready_count == 0) return out;
    int listed = 0;
    for (size_t i = 0; i < s.params.size(); ++i)
      if (!s.ready[i] && listed++ < 8) out += (out.empty() ? "'" : ", '") + s.names[i] + "'";
    return out;
  }

  // Ranks must agree on the parameter list: rank 0's description is broadcast, each rank
  // compares, and all throw together if any differs.
  void check_same_parameters() {
    std::ostringstream desc;
    for (const auto& [name, p] : module_->named_parameters())
      desc << name << ' ' << (p.defined() ? p.shape() : Shape{}) << (p.defined() && p.requires_grad() ? " grad" : "")
           << '\n';
    for (const auto& [name, b] : module_->named_buffers()) desc << "buffer " << name << ' ' << (b.defined() ? b.shape() : Shape{}) << '\n';
    const std::string mine = desc.str();
    if (group_->world_size() == 1) return;
    const std::string root = group_->broadcast_string(mine, 0);
    std::string diff;
    if (root != mine) {
      std::istringstream a(root), b(mine);
      std::string la, lb;
      for (int line = 1;; ++line) {
        const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
        if (!ga && !gb) break;
        if (!ga || !gb || la != lb) {
          diff = "entry " + std::to_string(line) + ": rank 0 has '" + (ga ? la : "<end>") + "', rank " +
                 std::to_string(group_->rank()) + " has '" + (gb ? lb : "<end>") + "'";
          break;
        }
      }
    }
    const auto flags = group_->all_gather_value(diff.empty() ? 0 : 1);
    std::string bad;
    int first_bad = -1;
    for (size_t r = 0; r < flags.size(); ++r)
      if (flags[r]) {
        bad += (bad.empty() ? "" : ", ") + std::to_string(r);
        if (first_bad < 0) first_bad = static_cast<int>(r);
      }
    if (first_bad >= 0) diff = group_->broadcast_string(diff, first_bad);  // every rank reports the same
    CRISP_CHECK(bad.empty(), DistributedError, "DistributedDataParallel",
                "expected the same parameters and buffers on every rank, but rank(s) ", bad,
                " differ from rank 0", diff.empty() ? std::string() : " (" + diff + ")");
  }

  void build_buckets() {
    State& s = *state_;
    s.group = group_.get();
    auto named = module_->named_parameters().items();
    const double cap = opt_.bucket_cap_mb() * 1024 * 1024;
    double bytes = 0;
    for (auto it = named.rbegin(); it != named.rend(); ++it) {
      const Tensor<T>& p = it->second;
      if (!p.defined() || !p.requires_grad()) continue;  // frozen: no gradient to reduce
      const double b = static_cast<double>(p.numel()) * sizeof(T);
      if (s.buckets.empty() || (bytes + b > cap && !s.buckets.back().params.empty())) {
        s.buckets.emplace_back();
        bytes = 0;
      }
      s.bucket_of.push_back(s.buckets.size() - 1);
      s.buckets.back().params.push_back(s.params.size());
      s.params.push_back(p);
      s.names.push_back(it->first);
      bytes += b;
    }
    for (auto& b : s.buckets) b.pending = b.params.size();
    s.ready.assign(s.params.size(), false);
    std::weak_ptr<State> weak = state_;
    for (size_t i = 0; i < s.params.size(); ++i)
      s.hook_ids.push_back(autograd::register_post_accumulate_grad_hook<T>(s.params[i], [weak, i](const Tensor<T>&) {
        auto st = weak.lock();
        if (st && st->sync) st->mark_ready(i);
      }));
  }

  std::shared_ptr<nn::ModuleT<T>> module_;
  std::shared_ptr<ProcessGroup> group_;
  DistributedDataParallelOptions opt_;
  std::shared_ptr<State> state_;
};

using DistributedDataParallel = DistributedDataParallelT<float>;

}  // namespace crisp::distributed
