// GAN losses as the official CycleGAN code's GANLoss: vanilla (BCE with logits) or least squares
// (MSE) against constant real / fake labels, with generator and discriminator sides.
#pragma once

// The discriminator side is 0.5 * (loss(real, real_label) + loss(fake, fake_label)), CycleGAN's
// backward_D_basic. Pass fake_logits computed from a detached generator output (fake.detach()),
// as that code does, when the generator must not receive the discriminator's gradient.
// Predictions of any shape (a PatchGAN map or one scalar per image); each loss is the mean over
// all elements. The semantic-deblurring paper's discriminator ends in a sigmoid: give its
// pre-sigmoid output to Vanilla (same value, stable), or apply loss::bce to its probabilities.

#include "crisp/loss/classification.hpp"

namespace crisp::loss {

enum class GanMode {
  Vanilla,      // BCE with logits: the original GAN objective on discriminator logits
  LeastSquares  // MSE to the labels (LSGAN; CycleGAN's default gan_mode "lsgan")
};

// Target values for "real" and "fake" predictions (label smoothing sets e.g. real = 0.9).
struct GanLabels {
  double real = 1.0;
  double fake = 0.0;
};

// The loss of `prediction` against the real (or fake) label expanded to its shape.
template <class T>
Tensor<T> gan_loss(const Tensor<T>& prediction, bool target_is_real, GanMode mode = GanMode::LeastSquares,
                   GanLabels labels = {}) {
  CRISP_CHECK(prediction.defined() && prediction.numel() > 0, ShapeError, "loss::gan_loss",
              "expected a non-empty prediction tensor, got ", prediction.defined() ? prediction.shape() : Shape{});
  const Tensor<T> target = full<T>(prediction.shape(), static_cast<T>(target_is_real ? labels.real : labels.fake), prediction.device());
  return mode == GanMode::Vanilla ? bce_with_logits(prediction, target) : mse(prediction, target);
}

// The generator's adversarial loss: its fakes should be judged real.
template <class T>
Tensor<T> gan_generator_loss(const Tensor<T>& fake_logits, GanMode mode = GanMode::LeastSquares, GanLabels labels = {}) {
  return gan_loss(fake_logits, true, mode, labels);
}

// The discriminator's loss 0.5 * (loss(real_logits, real) + loss(fake_logits, fake)).
template <class T>
Tensor<T> gan_discriminator_loss(const Tensor<T>& real_logits, const Tensor<T>& fake_logits,
                                 GanMode mode = GanMode::LeastSquares, GanLabels labels = {}) {
  return mul(add(gan_loss(real_logits, true, mode, labels), gan_loss(fake_logits, false, mode, labels)),
             scalar_tensor<T>(T(0.5), real_logits.device()));
}

}  // namespace crisp::loss
