// make_pairs: runs a trained CycleGAN sharp -> blurred generator (train_cyclegan's G_A) over a
// folder of sharp images and writes the paired dataset a deblurring network trains on - the
// CycleGAN -> SRN paper's labelling step: realistic blur learnt from unpaired photos.
//
// usage: make_pairs --generator RUN/G_A.safetensors --input SHARP_DIR --out PAIRS_DIR [--size 256]
//        make_pairs --help
//
// Output, in the layout crisp::data::PairedFolderDataset (and train_srn --data) reads:
//   OUT/sharp/<stem>.png     the input as the generator saw it (after --size)
//   OUT/blurred/<stem>.png   the generator's output, same size, same name
// With --test-fraction F (the second paper's 80/20 split: 0.2) the same layout twice, OUT/train/
// and OUT/test/ (a seeded shuffle, --seed, sends round(F * N) images to test), and OUT/split.csv;
// train_srn --data OUT/train trains, evaluate --pairs OUT/test scores (Table 1).
// Each image: shorter side resized to --size and the centre square kept (0: the image as it is),
// mapped to [-1, 1], reflect-padded to a multiple of 4 (the generator's two stride-2 convs) and
// cropped back after, mapped to [0, 1] and written as PNG. The generator's options come from the
// file's metadata (written by train_cyclegan); weights exported from the official PyTorch code
// carry none, so --ngf / --n-blocks (the official 64 / 9 by default) describe them instead.
#include <CLI/CLI.hpp>
#include <crisp/crisp.hpp>
#include <crisp/models/cyclegan.hpp>
#include <crisp/train/progress.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/cli.hpp"

namespace {

namespace fs = std::filesystem;
namespace data = crisp::data;
namespace models = crisp::models;
namespace ex = crisp::examples;
using crisp::Tensor;

constexpr const char* kProgram = "make_pairs";

struct Args {
  std::string generator, input, out = "pairs", device = "cpu";
  int64_t size = 256, ngf = 64, n_blocks = 9;
  bool overwrite = false;
  double test_fraction = 0;
  uint64_t seed = 0;
};

int64_t meta_int(const std::map<std::string, std::string>& meta, const std::string& key, int64_t fallback,
                 const std::string& path) {
  auto it = meta.find(key);
  if (it == meta.end()) return fallback;
  try {
    size_t used = 0;
    const int64_t v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw crisp::IoError(std::string(kProgram) + " --generator: '" + path + "' has the metadata " + key + " = '" +
                       it->second + "', expected an integer");
}

// The generator described by the file's metadata (or the flags), with its weights loaded.
models::ResnetGenerator load_generator(const Args& a) {
  CRISP_CHECK(!a.generator.empty(), crisp::ValueError, kProgram,
              "expected --generator FILE (train_cyclegan's OUT/G_A.safetensors), got none");
  CRISP_CHECK(fs::is_regular_file(a.generator), crisp::IoError, kProgram, "--generator: file '", a.generator,
              "' does not exist");
  const auto meta = crisp::io::load_safetensors_metadata(a.generator);
  auto model = meta.find("model");
  CRISP_CHECK(model == meta.end() || model->second == "ResnetGenerator", crisp::IoError, kProgram, "--generator: '",
              a.generator, "' holds a ", model->second, ", expected a CycleGAN ResnetGenerator (G_A.safetensors)");
  auto norm = meta.find("norm");
  CRISP_CHECK(norm == meta.end() || norm->second == "instance", crisp::IoError, kProgram, "--generator: '",
              a.generator, "' uses norm '", norm->second, "', this program builds instance-norm generators only");
  auto o = models::ResnetGeneratorOptions(meta_int(meta, "input_nc", 3, a.generator),
                                          meta_int(meta, "output_nc", 3, a.generator))
               .ngf(meta_int(meta, "ngf", a.ngf, a.generator))
               .n_blocks(meta_int(meta, "n_blocks", a.n_blocks, a.generator));
  CRISP_CHECK(o.input_nc() == 3 && o.output_nc() == 3, crisp::IoError, kProgram, "--generator: '", a.generator,
              "' maps ", o.input_nc(), " to ", o.output_nc(), " channels, expected an RGB -> RGB generator");
  models::ResnetGenerator g(o);
  try {
    g->load_state_dict(crisp::io::load_safetensors<float>(a.generator));
  } catch (const crisp::Error& e) {
    throw crisp::IoError(std::string(kProgram) + " --generator: '" + a.generator + "' does not fit a ResnetGenerator(ngf " +
                         std::to_string(o.ngf()) + ", " + std::to_string(o.n_blocks()) + " blocks)" +
                         (meta.count("ngf") ? "" : " (the file has no metadata: pass its --ngf and --n-blocks)") + ": " +
                         e.what());
  }
  g->eval();
  auto dir = meta.find("direction");
  std::cout << kProgram << ": generator " << a.generator << ": ngf " << o.ngf() << ", " << o.n_blocks() << " blocks"
            << (dir != meta.end() ? ", " + dir->second : std::string()) << "\n";
  return g;
}

// Shorter side resized to `size` (area to shrink, bilinear to enlarge), then the centre square.
Tensor<float> square(const Tensor<float>& img, int64_t size) {
  if (size <= 0) return img;
  const int64_t H = img.size(1), W = img.size(2);
  const double s = static_cast<double>(size) / static_cast<double>(std::min(H, W));
  const int64_t h = std::max<int64_t>(size, std::llround(H * s)), w = std::max<int64_t>(size, std::llround(W * s));
  const Tensor<float> r =
      (h == H && w == W) ? img : data::resize(img, {h, w}, s < 1 ? data::Interpolation::Area : data::Interpolation::Bilinear);
  return data::center_crop(r, {size, size});
}

// G(sharp) for a [3, H, W] image in [0, 1] of any size >= 2: padded to multiples of 4 (and at
// least 8) by reflection, the generator run, the padding cut off.
Tensor<float> blur_with(models::ResnetGenerator& g, const Tensor<float>& sharp) {
  crisp::NoGradGuard no_grad;
  const int64_t H = sharp.size(1), W = sharp.size(2);
  const int64_t ph = std::max<int64_t>(8, (H + 3) / 4 * 4) - H, pw = std::max<int64_t>(8, (W + 3) / 4 * 4) - W;
  CRISP_CHECK(ph < H && pw < W, crisp::ShapeError, kProgram, "expected images of at least 5 x 5 pixels, got ", H, " x ",
              W);
  Tensor<float> x = sharp.contiguous().view({1, 3, H, W}).to(g->device()) * 2.f + (-1.f);
  if (ph > 0 || pw > 0) x = crisp::pad(x, {0, pw, 0, ph}, crisp::PadMode::Reflect);
  const Tensor<float> y = g(x).select(0, 0).to(crisp::Device::cpu());  // the data tools run on the CPU
  const Tensor<float> out = data::crop(y, 0, 0, H, W);
  return crisp::clamp<float>(out * 0.5f + 0.5f, 0.f, 1.f);
}

int run(const Args& a) {
  const auto files = ex::require_images(a.input, std::string(kProgram) + " --input");
  data::images_by_stem(files, std::string(kProgram) + " --input");  // a.png and a.jpg would collide
  CRISP_CHECK(a.size >= 0, crisp::ValueError, kProgram, "expected --size >= 0 (0: keep the image size), got ", a.size);
  CRISP_CHECK(!a.out.empty(), crisp::ValueError, kProgram, "expected a non-empty --out folder");
  CRISP_CHECK(a.test_fraction >= 0 && a.test_fraction < 1, crisp::ValueError, kProgram,
              "expected --test-fraction in [0, 1), got ", a.test_fraction);
  // --test-fraction: a seeded shuffle puts round(F * N) images (at least one when F > 0) in
  // OUT/test and the rest in OUT/train, each in the paired layout.
  std::vector<bool> is_test(files.size(), false);
  int64_t n_test = 0;
  if (a.test_fraction > 0) {
    CRISP_CHECK(files.size() >= 2, crisp::IoError, kProgram, "--test-fraction needs at least 2 images in '", a.input,
                "', got ", files.size());
    n_test = std::clamp<int64_t>(std::llround(a.test_fraction * static_cast<double>(files.size())), 1,
                                 static_cast<int64_t>(files.size()) - 1);
    std::vector<size_t> order(files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    crisp::Generator gen(data::sample_seed(a.seed, 9, 0));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.uniform_int(i)]);  // Fisher-Yates
    for (int64_t i = 0; i < n_test; ++i) is_test[order[static_cast<size_t>(i)]] = true;
  }
  models::ResnetGenerator g = load_generator(a);
  g->to(ex::parse_device(a.device, kProgram));
  const std::vector<fs::path> roots =
      a.test_fraction > 0 ? std::vector<fs::path>{fs::path(a.out) / "train", fs::path(a.out) / "test"}
                          : std::vector<fs::path>{fs::path(a.out)};
  for (const auto& r : roots)
    for (const auto& d : {r / "sharp", r / "blurred"}) {
      if (!a.overwrite && fs::is_directory(d) && !fs::is_empty(d))
        throw crisp::IoError(std::string(kProgram) + ": '" + d.string() +
                             "' already holds files; pass --overwrite to replace them, or choose another --out");
      fs::create_directories(d);
    }
  std::ofstream split;
  if (a.test_fraction > 0) {
    split.open(fs::path(a.out) / "split.csv");
    split << "image,split\n";
  }
  crisp::train::ProgressBar bar(static_cast<int64_t>(files.size()), {kProgram, "img"});
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    const Tensor<float> sharp = square(data::load_image(f, data::ImageMode::RGB), a.size);
    const Tensor<float> blurred = blur_with(g, sharp);
    const std::string name = data::file_stem(f) + ".png";
    const fs::path& root = roots[is_test[i] ? 1 : 0];
    data::save_image(sharp, (root / "sharp" / name).string());
    data::save_image(blurred, (root / "blurred" / name).string());
    if (split.is_open()) split << data::file_name(f) << "," << (is_test[i] ? "test" : "train") << "\n";
    bar.update();
  }
  bar.finish();
  if (a.test_fraction > 0) {
    std::cout << kProgram << ": wrote " << files.size() - static_cast<size_t>(n_test) << " training pairs to "
              << roots[0].string() << " and " << n_test << " test pairs to " << roots[1].string()
              << " (split.csv lists which; train with: train_srn --data " << roots[0].string()
              << ", score with: evaluate --weights W --pairs " << roots[1].string() << ")\n";
  } else {
    std::cout << kProgram << ": wrote " << files.size() << " pairs to " << (roots[0] / "blurred").string() << " and "
              << (roots[0] / "sharp").string() << " (train on them with: train_srn --data " << a.out << ")\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"make_pairs: blur sharp images with a trained CycleGAN generator into a paired dataset"};
  Args a;
  app.add_option("--generator", a.generator, "train_cyclegan's OUT/G_A.safetensors (sharp -> blurred)");
  app.add_option("--input", a.input, "folder of sharp images");
  app.add_option("--device", a.device, "cpu or cuda[:N]: where the generator runs")->capture_default_str();
  app.add_option("--out", a.out, "output folder: OUT/blurred and OUT/sharp")->capture_default_str();
  app.add_option("--size", a.size, "shorter side resized to this, centre square kept (0: keep the image)")
      ->capture_default_str();
  app.add_option("--ngf", a.ngf, "generator width, for files without metadata")->capture_default_str();
  app.add_option("--n-blocks", a.n_blocks, "generator blocks, for files without metadata")->capture_default_str();
  app.add_flag("--overwrite", a.overwrite, "replace the files of an earlier run in OUT");
  app.add_option("--test-fraction", a.test_fraction,
                 "hold this fraction of the images out: OUT/train and OUT/test (the paper's 80/20: 0.2)")
      ->capture_default_str();
  app.add_option("--seed", a.seed, "seed of the --test-fraction shuffle")->capture_default_str();
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a); });
}
