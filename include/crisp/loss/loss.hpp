// Every crisp::loss: regression (l1, mse, smooth_l1, cycle_consistency, total_variation),
// classification (bce, bce_with_logits, nll_loss, cross_entropy), GAN, structural and perceptual.
#pragma once

#include "crisp/loss/classification.hpp"
#include "crisp/loss/gan.hpp"
#include "crisp/loss/perceptual.hpp"
#include "crisp/loss/regression.hpp"
#include "crisp/loss/structural.hpp"
