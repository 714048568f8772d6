// CycleGAN's ImagePool: a buffer of previously generated images from which the discriminators
// are shown a mix of current and older fakes (Shrivastava et al. 2017), with the official
// pytorch-CycleGAN-and-pix2pix semantics, deterministic for a seed.
#pragma once

// Per image of the queried batch, in order: while fewer than pool_size images are stored, the
// image is stored and returned; afterwards, with probability 0.5 a uniformly chosen stored image
// is returned and replaced by the new one, otherwise the new image is returned (and not stored).
// The official code draws p = uniform(0, 1) and swaps when p > 0.5; crisp draws from its own
// Generator, so the sequence of choices is not Python's. pool_size 0 returns the batch itself,
// as the official code. Otherwise stored and returned images are detached copies: the pool never
// aliases or records a graph through the caller's tensors (the official code keeps `.data`).

#include <cstdint>
#include <vector>

#include "crisp/autograd/grad_mode.hpp"
#include "crisp/ops/concat.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/tensor.hpp"

namespace crisp::models {

class ImagePool {
 public:
  explicit ImagePool(int64_t pool_size = 50, uint64_t seed = 0) : pool_size_(pool_size), gen_(seed) {
    CRISP_CHECK(pool_size >= 0, ValueError, "ImagePool", "expected pool_size >= 0, got ", pool_size);
  }

  // images: N x C x H x W (N >= 1; every image of every query must have the same C x H x W once
  // the pool stores any). Returns N x C x H x W, detached.
  Tensor<float> query(const Tensor<float>& images) {
    CRISP_CHECK(images.defined() && images.dim() == 4 && images.size(0) > 0, ShapeError, "ImagePool::query",
                "expected a non-empty batch of shape [N, C, H, W], got ", images.defined() ? images.shape() : Shape{});
    if (pool_size_ == 0) return images;
    if (!images_.empty()) {
      const Shape& s = images_.front().shape();
      CRISP_CHECK(images.size(1) == s[1] && images.size(2) == s[2] && images.size(3) == s[3], ShapeError,
                  "ImagePool::query", "expected images of shape [N, ", s[1], ", ", s[2], ", ", s[3],
                  "] like those already in the pool, got ", images.shape());
    }
    NoGradGuard no_grad;
    std::vector<Tensor<float>> out;
    out.reserve(static_cast<size_t>(images.size(0)));
    for (int64_t i = 0; i < images.size(0); ++i) {
      Tensor<float> image = images.slice(0, i, i + 1).detach().clone();
      if (static_cast<int64_t>(images_.size()) < pool_size_) {
        images_.push_back(image);
        out.push_back(image);
      } else if (gen_.uniform() > 0.5) {
        const size_t id = static_cast<size_t>(gen_.uniform_int(static_cast<uint64_t>(pool_size_)));
        out.push_back(images_[id]);
        images_[id] = image;
      } else {
        out.push_back(image);
      }
    }
    return cat(out, 0);
  }

  int64_t pool_size() const { return pool_size_; }
  // How many images are stored (at most pool_size).
  int64_t size() const { return static_cast<int64_t>(images_.size()); }
  // The stored images, each 1 x C x H x W, in slot order.
  const std::vector<Tensor<float>>& images() const { return images_; }

 private:
  int64_t pool_size_;
  Generator gen_;
  std::vector<Tensor<float>> images_;
};

}  // namespace crisp::models
