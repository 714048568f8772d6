// Data-pipeline throughput: BlurredFolderDataset through a DataLoader with 2 worker threads (decode
// JPEG, resize, random crop 128x128, flip, blur with a 13..27 motion kernel, noise), in samples/s.
// Reads ../shared/data/faces (1024x1024 JPEGs) when present, $CRISP_BENCH_FACES if set, else
// synthetic 1024x1024 JPEGs written to a temporary folder. One benchmark iteration = one batch
// of 16; the loader runs epoch after epoch so thread start-up is not timed per batch.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "crisp/crisp.hpp"
#include "crisp/data/data.hpp"

namespace {

using namespace crisp;
using namespace crisp::data;
namespace fs = std::filesystem;

// Smooth random colour images (so JPEG sizes resemble photographs', not noise's).
std::string synthetic_folder() {
  const fs::path dir = fs::temp_directory_path() / "crisp_bench_loader_faces";
  if (fs::exists(dir / "31.jpg")) return dir.string();
  fs::create_directories(dir);
  Generator g(1);
  for (int i = 0; i < 32; ++i) {
    const int64_t S = 1024;
    Tensor<float> t = Tensor<float>::empty(Shape{3, S, S});
    double f[3][2], ph[3];
    for (int c = 0; c < 3; ++c) f[c][0] = 0.002 + 0.02 * g.uniform(), f[c][1] = 0.002 + 0.02 * g.uniform(), ph[c] = 6.28 * g.uniform();
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < S; ++y)
        for (int64_t x = 0; x < S; ++x)
          t.data()[(c * S + y) * S + x] = static_cast<float>(
              0.5 + 0.35 * std::sin(f[c][0] * x + ph[c]) * std::cos(f[c][1] * y) + 0.05 * (g.uniform() - 0.5));
    save_image(t, (dir / (std::to_string(i) + ".jpg")).string(), 90);
  }
  return dir.string();
}

std::string face_folder() {
  if (const char* env = std::getenv("CRISP_BENCH_FACES")) return env;
  const std::string shared = std::string(CRISP_SOURCE_DIR) + "/../shared/data/faces";
  if (fs::exists(shared)) return shared;
  return synthetic_folder();
}

const KernelBank& paper_bank() {
  static const KernelBank bank = [] {
    Generator g(2018);
    return make_kernel_bank({13, 15, 17, 19, 21, 23, 25, 27}, 8, g);
  }();
  return bank;
}

// state.range(0): 0 = the paper's whole face (resize to 144, crop 128), 1 = crop 128 from the
// full-resolution image; state.range(1): worker threads; state.range(2): 1 = cache_images (decode
// and resize once per file, then only crop, flip, blur and noise).
void BM_BlurredFolderLoader(benchmark::State& state) {
  BlurredFolderOptions o;
  o.crop = {128, 128};
  if (state.range(0) == 0) o.load_size = {144, 144};
  o.hflip = true;
  o.cache_images = state.range(2) != 0;
  DataLoaderOptions lo;
  lo.batch_size = 16;
  lo.shuffle = true;
  lo.num_workers = state.range(1);
  const std::string dir = face_folder();
  DataLoader<BlurredFolderDataset> loader(BlurredFolderDataset(dir, paper_bank(), o), lo);
  int64_t epoch = 0, samples = 0;
  for (auto _ : state) {
    auto batch = loader.next();
    if (!batch) {
      loader.set_epoch(++epoch);
      batch = loader.next();
    }
    samples += batch->blurred.size(0);
    benchmark::DoNotOptimize(batch->blurred.data());
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.SetLabel(dir);
}
BENCHMARK(BM_BlurredFolderLoader)
    ->ArgNames({"full_res_crop", "workers", "cache"})
    ->Args({0, 2, 0})
    ->Args({1, 2, 0})
    ->Args({0, 1, 0})
    ->Args({0, 2, 1})
    ->Args({0, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3.0);

// The stages of one sample on the calling thread, to see where the time goes.
void BM_Stage(benchmark::State& state) {
  const std::string path = BlurredFolderDataset(face_folder(), paper_bank()).files()[0];
  const Tensor<float> img = load_image(path, ImageMode::RGB);
  const Tensor<float> small = resize(img, {144, 144}, Interpolation::Area);
  Generator g(0);
  const Tensor<float> k27 = paper_bank().back();
  for (auto _ : state) {
    switch (state.range(0)) {
      case 0: benchmark::DoNotOptimize(load_image(path, ImageMode::RGB).data()); break;
      case 1: benchmark::DoNotOptimize(resize(img, {144, 144}, Interpolation::Area).data()); break;
      case 2: benchmark::DoNotOptimize(degrade(small, k27, g).data()); break;
    }
  }
  static const char* names[] = {"decode 1024^2 JPEG", "area resize 1024^2 -> 144^2", "blur 27x27 + noise, 144^2"};
  state.SetLabel(names[state.range(0)]);
}
BENCHMARK(BM_Stage)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
