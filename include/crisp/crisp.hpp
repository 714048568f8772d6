// crisp: header-only C++20 deep learning for image restoration. This umbrella header brings in
// tensors, autograd, every op, nn modules, the papers' models, losses,
// optimisers, safetensors IO, checkpoints, data loading and metrics.
#pragma once

#include "crisp/autograd/engine.hpp"
#include "crisp/autograd/gradcheck.hpp"
#include "crisp/autograd/grad_mode.hpp"
#include "crisp/data/data.hpp"
#include "crisp/io/checkpoint.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/io/tfjs_weights.hpp"
#include "crisp/loss/loss.hpp"
#include "crisp/metrics/parsing.hpp"
#include "crisp/metrics/psnr_ssim.hpp"
#include "crisp/models/models.hpp"
#include "crisp/nn/nn.hpp"
#include "crisp/ops/ops.hpp"
#include "crisp/optim/optim.hpp"
#include "crisp/tensor/factory.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/print.hpp"
#include "crisp/tensor/tensor.hpp"
