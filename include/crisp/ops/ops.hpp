// Every differentiable op.
#pragma once

#include "crisp/ops/activation.hpp"
#include "crisp/ops/arithmetic.hpp"
#include "crisp/ops/concat.hpp"
#include "crisp/ops/conv.hpp"
#include "crisp/ops/dropout.hpp"
#include "crisp/ops/inplace.hpp"
#include "crisp/ops/matmul.hpp"
#include "crisp/ops/normalization.hpp"
#include "crisp/ops/padding.hpp"
#include "crisp/ops/pooling.hpp"
#include "crisp/ops/reduction.hpp"
#include "crisp/ops/resize.hpp"
#include "crisp/ops/to_device.hpp"
#include "crisp/ops/unary.hpp"
#include "crisp/ops/view.hpp"
