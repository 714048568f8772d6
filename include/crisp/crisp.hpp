// crisp: header-only C++20 deep learning for image restoration. This umbrella header brings in
// tensors, autograd, every op, nn modules, losses,
// optimisers, safetensors IO and checkpoints.
#pragma once

#include "crisp/autograd/engine.hpp"
#include "crisp/autograd/gradcheck.hpp"
#include "crisp/autograd/grad_mode.hpp"
#include "crisp/io/checkpoint.hpp"
#include "crisp/io/safetensors.hpp"
#include "crisp/loss/loss.hpp"
#include "crisp/nn/nn.hpp"
#include "crisp/ops/ops.hpp"
#include "crisp/optim/optim.hpp"
#include "crisp/tensor/factory.hpp"
#include "crisp/tensor/generator.hpp"
#include "crisp/tensor/print.hpp"
#include "crisp/tensor/tensor.hpp"
