// crisp::models: the two papers' networks, each a plain composition of crisp::nn modules that can be
// built, inspected, trained, saved and loaded (layer tables and parameter counts in docs/models.md).
#pragma once

#include "crisp/models/cyclegan.hpp"
#include "crisp/models/dcgan_discriminator.hpp"
#include "crisp/models/face_api_input.hpp"
#include "crisp/models/face_recognition.hpp"
#include "crisp/models/face_parsing.hpp"
#include "crisp/models/image_pool.hpp"
#include "crisp/models/semantic_deblur.hpp"
#include "crisp/models/srn.hpp"
#include "crisp/models/tiny_face_detector.hpp"
#include "crisp/models/vgg16.hpp"
