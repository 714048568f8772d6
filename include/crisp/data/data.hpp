// Umbrella header for crisp's data layer: image IO, transforms, motion-blur kernels, degradation,
// datasets, the DataLoader and the kernel curriculum (metrics live in crisp/metrics/).
#pragma once

#include "crisp/data/blur_kernels.hpp"
#include "crisp/data/curriculum.hpp"
#include "crisp/data/dataset.hpp"
#include "crisp/data/datasets.hpp"
#include "crisp/data/degradation.hpp"
#include "crisp/data/image_io.hpp"
#include "crisp/data/loader.hpp"
#include "crisp/data/parsing_dataset.hpp"
#include "crisp/data/transforms.hpp"
