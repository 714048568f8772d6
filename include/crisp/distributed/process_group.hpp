// ProcessGroup: the ranks of one job and their collectives on tensors (torch.distributed's
// all_reduce / broadcast / all_gather / barrier), over a communication backend: MPI for CPU
// tensors (mpi_backend.hpp), NCCL for CUDA tensors (nccl_backend.hpp). Collectives run in place,
// must be called by every rank in the same order, and never hang: a collective that does not
// complete within the group's timeout ends the whole job with a message naming the rank that
// gave up (see Backend::wait in the backends).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "crisp/tensor/error.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::distributed {

// A collective that failed, a launch that does not add up, or ranks that disagree.
class DistributedError : public Error {
 public:
  using Error::Error;
};

enum class ReduceOp { Sum, Max, Min };
enum class DType { F32, F64, I64, U8 };

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::F32;
  else if constexpr (std::is_same_v<T, double>) return DType::F64;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::I64;
  else {
    static_assert(std::is_same_v<T, uint8_t>, "crisp::distributed: float, double, int64_t or uint8_t");
    return DType::U8;
  }
}
inline int64_t dtype_size(DType t) { return t == DType::U8 ? 1 : (t == DType::F32 ? 4 : 8); }

// The handle of an asynchronous collective (torch's Work): test() drives it and says whether it
// completed; wait() blocks until it has (or ends the job at the timeout). Then the data are final.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
};

// A communication library for one kind of memory. Buffers are raw, contiguous, in place.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual std::shared_ptr<Work> all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) = 0;
  virtual std::shared_ptr<Work> broadcast(void* data, int64_t count, DType dtype, int root) = 0;
  // out holds world_size blocks of `count` elements, rank r's input in block r.
  virtual std::shared_ptr<Work> all_gather(const void* in, void* out, int64_t count, DType dtype) = 0;
  virtual void barrier() = 0;
};

// A Work that is already complete (single-rank groups, empty lists).
class DoneWork final : public Work {
 public:
  explicit DoneWork(std::function<void()> then = nullptr) {
    if (then) then();
  }
  bool test() override { return true; }
  void wait() override {}
};

// Runs `then` once, after `inner` completed (copying a flattened buffer back, averaging, ...).
class ThenWork final : public Work {
 public:
  ThenWork(std::shared_ptr<Work> inner, std::function<void()> then) : inner_(std::move(inner)), then_(std::move(then)) {}
  bool test() override {
    if (then_ && inner_->test()) finish();
    return !then_;
  }
  void wait() override {
    if (!then_) return;
    inner_->wait();
    finish();
  }

 private:
  void finish() {
    auto f = std::move(then_);
    then_ = nullptr;
    f();
  }
  std::shared_ptr<Work> inner_;
  std::function<void()> then_;
};

struct ProcessGroupOptions {
  // A collective still incomplete after this long ends the job (--dist-timeout).
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
};

class ProcessGroup {
 public:
  ProcessGroup(int rank, int world_size, int local_rank, std::shared_ptr<Backend> cpu, std::shared_ptr<Backend> cuda)
      : rank_(rank), world_size_(world_size), local_rank_(local_rank), cpu_(std::move(cpu)), cuda_(std::move(cuda)) {}

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // This process's index among the ranks on its machine: its GPU with one GPU per rank.
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  Backend& backend_for(Device d, const char* op) const {
    if (d.is_cuda()) {
      CRISP_CHECK(cuda_ != nullptr, DistributedError, op,
                  "got CUDA tensors, but this process group has no NCCL backend (build with CRISP_WITH_CUDA and "
                  "NCCL, and create the group with a CUDA device); move the tensors to the CPU for MPI");
      return *cuda_;
    }
    return *cpu_;
  }
  bool has_cuda_backend() const { return cuda_ != nullptr; }

  // Sums (or max / min) each tensor over all ranks, in place. The list is one collective: CPU
  // tensors are packed into one buffer; all tensors must be contiguous and on one device.
  template <class T>
  std::shared_ptr<Work> all_reduce_async(const std::vector<Tensor<T>>& tensors, ReduceOp op = ReduceOp::Sum) {
    const char* name = "all_reduce";
    check_list(tensors, name);
    if (tensors.empty()) return std::make_shared<DoneWork>();
    Backend& b = backend_for(tensors[0].device(), name);
    if (tensors.size() == 1) return b.all_reduce(tensors[0].data_ptr(), tensors[0].numel(), dtype_of<T>(), op);
    if (tensors[0].is_cuda()) return each(tensors, [&](const Tensor<T>& t) {
      return b.all_reduce(t.data_ptr(), t.numel(), dtype_of<T>(), op);
    });
    auto flat = std::make_shared<std::vector<T>>(pack(tensors));
    auto w = b.all_reduce(flat->data(), static_cast<int64_t>(flat->size()), dtype_of<T>(), op);
    return std::make_shared<ThenWork>(w, [flat, tensors] { unpack(*flat, tensors); });
  }
  template <class T>
  void all_reduce(const std::vector<Tensor<T>>& tensors, ReduceOp op = ReduceOp::Sum) {
    all_reduce_async(tensors, op)->wait();
  }
  template <class T>
  void all_reduce(const Tensor<T>& tensor, ReduceOp op = ReduceOp::Sum) {
    all_reduce(std::vector<Tensor<T>>{tensor}, op);
  }
  // A host number summed (or max / min) over the ranks: held-out metrics, loss sums.
  double all_reduce_value(double v, ReduceOp op = ReduceOp::Sum) {
    cpu_->all_reduce(&v, 1, DType::F64, op)->wait();
    return v;
  }

  // Overwrites each tensor with rank `root`'s.
  template <class T>
  void broadcast(const std::vector<Tensor<T>>& tensors, int root = 0) {
    const char* name = "broadcast";
    check_list(tensors, name);
    check_root(root, name);
    if (tensors.empty()) return;
    Backend& b = backend_for(tensors[0].device(), name);
    if (tensors.size() == 1 || tensors[0].is_cuda()) {
      each(tensors, [&](const Tensor<T>& t) { return b.broadcast(t.data_ptr(), t.numel(), dtype_of<T>(), root); })
          ->wait();
      return;
    }
    std::vector<T> flat = pack(tensors);
    b.broadcast(flat.data(), static_cast<int64_t>(flat.size()), dtype_of<T>(), root)->wait();
    unpack(flat, tensors);
  }
  template <class T>
  void broadcast(const Tensor<T>& tensor, int root = 0) {
    broadcast(std::vector<Tensor<T>>{tensor}, root);
  }
  // Rank root's bytes (any length) on every rank.
  std::string broadcast_string(std::string s, int root = 0) {
    check_root(root, "broadcast_string");
    int64_t n = static_cast<int64_t>(s.size());
    cpu_->broadcast(&n, 1, DType::I64, root)->wait();
    s.resize(static_cast<size_t>(n));
    if (n > 0) cpu_->broadcast(s.data(), n, DType::U8, root)->wait();
    return s;
  }

  // Every rank's `input` (same shape on all ranks), indexed by rank.
  template <class T>
  std::vector<Tensor<T>> all_gather(const Tensor<T>& input) {
    const char* name = "all_gather";
    check_list(std::vector<Tensor<T>>{input}, name);
    Backend& b = backend_for(input.device(), name);
    Shape s = input.shape();
    std::vector<int64_t> dims{world_size_};
    for (int64_t d : s) dims.push_back(d);
    Tensor<T> out = Tensor<T>::empty(Shape(dims), input.device());
    b.all_gather(input.data_ptr(), out.data_ptr(), input.numel(), dtype_of<T>())->wait();
    std::vector<Tensor<T>> parts;
    for (int r = 0; r < world_size_; ++r)
      parts.push_back(Tensor<T>::view_of(out.storage(), s, contiguous_strides(s), r * input.numel()));
    return parts;
  }
  // One int64 per rank, indexed by rank.
  std::vector<int64_t> all_gather_value(int64_t v) {
    std::vector<int64_t> out(static_cast<size_t>(world_size_));
    cpu_->all_gather(&v, out.data(), 1, DType::I64)->wait();
    return out;
  }

  void barrier() { cpu_->barrier(); }

 private:
  template <class T>
  static void check_list(const std::vector<Tensor<T>>& ts, const char* op) {
    for (size_t i = 0; i < ts.size(); ++i) {
      CRISP_CHECK(ts[i].defined(), DistributedError, op, "expected defined tensors, got an undefined one at ", i);
      CRISP_CHECK(ts[i].is_contiguous(), DistributedError, op, "expected contiguous tensors, got shape ",
                  ts[i].shape(), " with non-contiguous strides at ", i, " (call .contiguous() first)");
      CRISP_CHECK(ts[i].device() == ts[0].device(), DistributedError, op,
                  "expected all tensors on one device, got tensor 0 on ", ts[0].device(), " and tensor ", i, " on ",
                  ts[i].device());
    }
  }
  void check_root(int root, const char* op) const {
    CRISP_CHECK(root >= 0 && root < world_size_, DistributedError, op, "expected a root rank in [0, ", world_size_,
                "), got ", root);
  }
  template <class T>
  static std::vector<T> pack(const std::vector<Tensor<T>>& ts) {
    int64_t n = 0;
    for (const auto& t : ts) n += t.numel();
    std::vector<T> flat(static_cast<size_t>(n));
    T* p = flat.data();
    for (const auto& t : ts) {
      if (t.numel() > 0) std::memcpy(p, t.data_ptr(), sizeof(T) * static_cast<size_t>(t.numel()));
      p += t.numel();
    }
    return flat;
  }
  template <class T>
  static void unpack(const std::vector<T>& flat, const std::vector<Tensor<T>>& ts) {
    const T* p = flat.data();
    for (const auto& t : ts) {
      if (t.numel() > 0) std::memcpy(t.data_ptr(), p, sizeof(T) * static_cast<size_t>(t.numel()));
      p += t.numel();
    }
  }
  // One collective per tensor; the returned Work completes when all of them have.
  template <class T, class F>
  static std::shared_ptr<Work> each(const std::vector<Tensor<T>>& ts, F&& start) {
    struct All final : Work {
      std::vector<std::shared_ptr<Work>> parts;
      bool test() override {
        bool done = true;
        for (auto& p : parts) done = p->test() && done;
        return done;
      }
      void wait() override {
        for (auto& p : parts) p->wait();
      }
    };
    auto all = std::make_shared<All>();
    for (const auto& t : ts) all->parts.push_back(start(t));
    return all;
  }

  int rank_, world_size_, local_rank_;
  std::shared_ptr<Backend> cpu_, cuda_;
};

}  // namespace crisp::distributed
