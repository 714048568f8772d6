// The seam between bench_models' three translation units: the harness (Google Benchmark, the summary
// table), crisp's networks and libtorch's twins. It names only the standard library, so crisp's and
// torch's headers never meet in one TU (both define Tensor, nn::Module, relu, ... and macros).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bench_models {

enum class Mode { Train, Infer };

// One network at one size, run by both libraries.
struct Case {
  std::string model;  // "semantic_deblur", "face_parsing", ..., "demo"
  std::string size;   // e.g. "b4@128", for the row names and the table
  Mode mode;
};

// The networks, in the order they are benchmarked (docs/benchmarks.md describes each step).
std::vector<std::string> model_names();
std::string model_size(const std::string& model);

// One benchmark subject: the model, its optimiser and fixed inputs built once; step() runs one
// train step (forward, losses, backward, Adam) or one no-grad forward, and leaves no graph behind.
class Runner {
 public:
  virtual ~Runner() = default;
  virtual void step() = 0;
  // The last step's main loss (train) or an output sum (inference): proves the step ran and lets
  // the harness print that both sides computed something finite.
  virtual double last_value() const = 0;
  // Trainable parameters of the networks the step updates or runs (both sides must agree: same
  // architecture). For the semantic step: the deblurring net, the discriminator and VGG16.
  virtual int64_t parameters() = 0;
};

std::unique_ptr<Runner> make_crisp(const std::string& model, Mode mode);
std::unique_ptr<Runner> make_torch(const std::string& model, Mode mode);

// Thread setup and version strings for the header lines.
void crisp_set_threads(int n);
void torch_set_threads(int n);
std::string torch_version();

}  // namespace bench_models
