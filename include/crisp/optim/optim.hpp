// crisp::optim: optimisers (SGD, Adam, AdamW), learning-rate schedulers and gradient clipping -
// everything a training loop steps after backward.
#pragma once

#include "crisp/optim/adam.hpp"
#include "crisp/optim/clip.hpp"
#include "crisp/optim/optimizer.hpp"
#include "crisp/optim/scheduler.hpp"
#include "crisp/optim/sgd.hpp"
