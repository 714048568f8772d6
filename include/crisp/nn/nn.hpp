// Every nn module: the Module base and holders, init functions, containers, the layers and the
// papers' blocks (ResBlock, ResnetBlock, ConvLSTMCell).
#pragma once

#include "crisp/nn/activation.hpp"
#include "crisp/nn/blocks.hpp"
#include "crisp/nn/container.hpp"
#include "crisp/nn/conv.hpp"
#include "crisp/nn/dropout.hpp"
#include "crisp/nn/init.hpp"
#include "crisp/nn/linear.hpp"
#include "crisp/nn/module.hpp"
#include "crisp/nn/module_holder.hpp"
#include "crisp/nn/normalization.hpp"
#include "crisp/nn/padding.hpp"
#include "crisp/nn/pooling.hpp"
#include "crisp/nn/upsample.hpp"
