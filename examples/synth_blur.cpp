// synth_blur: builds a motion-blur kernel bank and a paired blurred/sharp dataset from a folder of
// sharp images (the semantic face deblurring paper's synthesis: random camera-shake kernels of
// 13x13 to 27x27 whose paths span the kernel, Gaussian noise of sigma 0.01), and a PNG contact
// sheet to eyeball the result.
//
// usage: synth_blur --input DIR --output DIR [--kernels N] [--sizes 13,15,...,27] [--crop 128]
//                   [--seed S] [--noise 0.01] [--per-image K]
//        synth_blur --make-demo-input DIR      (writes a few synthetic test images and exits)
//
// Output:  OUTPUT/kernels.safetensors            the bank (data::load_kernel_bank reads it)
//          OUTPUT/blurred/<stem>_<k>.png          k = 0 .. K-1, each with its own random kernel
//          OUTPUT/sharp/<stem>_<k>.png            the sharp partner under the same name, since
//                                                 PairedFolderDataset pairs files by stem
//          OUTPUT/blurred_kernels.csv             which bank kernel blurred each file
//          OUTPUT/contact_sheet.png               one kernel per size, then sharp | blurred pairs
// Every image i draws its kernels and noise from Generator(sample_seed(seed, 1, i)), so the
// output does not depend on the thread count.
#include <CLI/CLI.hpp>

#include "common/cli_parse.hpp"
#include <crisp/crisp.hpp>
#include <crisp/train/image_grid.hpp>
#include <crisp/train/progress.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using crisp::Tensor;
namespace data = crisp::data;
namespace train = crisp::train;

struct Args {
  std::string input, output, demo_dir;
  int64_t kernels_per_size = 100, crop = 128, per_image = 1;
  std::vector<int64_t> sizes{13, 15, 17, 19, 21, 23, 25, 27};
  uint64_t seed = 0;
  double noise = 0.01;
};

// Shorter side resized to `crop` (area to shrink, bilinear to enlarge), then the centre square.
Tensor<float> square_crop(const Tensor<float>& img, int64_t crop) {
  const int64_t H = img.size(1), W = img.size(2);
  const double s = static_cast<double>(crop) / static_cast<double>(std::min(H, W));
  const int64_t h = std::max<int64_t>(crop, std::llround(H * s)), w = std::max<int64_t>(crop, std::llround(W * s));
  Tensor<float> r = (h == H && w == W) ? img
                                      : data::resize(img, {h, w},
                                                     s < 1 ? data::Interpolation::Area : data::Interpolation::Bilinear);
  return data::center_crop(r, {crop, crop});
}

// A few smooth synthetic "photos" (gradients, discs, stripes) so the smoke test needs no data.
void make_demo_input(const std::string& dir) {
  fs::create_directories(dir);
  crisp::Generator gen(7);
  for (int i = 0; i < 4; ++i) {
    const int64_t H = 72 + 8 * i, W = 96 - 4 * i;
    Tensor<float> img = Tensor<float>::empty(crisp::Shape{3, H, W});
    const double cx = W * gen.uniform(), cy = H * gen.uniform(), r = 10 + 10 * gen.uniform();
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const bool disc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;
        const bool stripe = (x / (4 + i)) % 2 == 0;
        img.data()[(0 * H + y) * W + x] = disc ? 0.9f : static_cast<float>(x) / W;
        img.data()[(1 * H + y) * W + x] = stripe ? 0.8f : 0.2f;
        img.data()[(2 * H + y) * W + x] = static_cast<float>(y) / H;
      }
    data::save_image(img, (fs::path(dir) / ("demo" + std::to_string(i) + (i % 2 ? ".jpg" : ".png"))).string());
  }
  std::cout << "wrote 4 demo images to " << dir << "\n";
}

int run(const Args& a) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  CRISP_CHECK(a.crop >= 8, crisp::ValueError, "synth_blur", "expected --crop >= 8, got ", a.crop);
  CRISP_CHECK(a.per_image >= 1, crisp::ValueError, "synth_blur", "expected --per-image >= 1, got ", a.per_image);
  CRISP_CHECK(a.kernels_per_size >= 1, crisp::ValueError, "synth_blur", "expected --kernels >= 1, got ",
              a.kernels_per_size);
  CRISP_CHECK(!a.sizes.empty(), crisp::ValueError, "synth_blur", "expected at least one kernel size in --sizes");
  CRISP_CHECK(a.noise >= 0, crisp::ValueError, "synth_blur", "expected --noise >= 0, got ", a.noise);
  for (int64_t s : a.sizes)
    CRISP_CHECK(s >= 3 && s % 2 == 1 && s <= a.crop, crisp::ValueError, "synth_blur",
                "expected odd kernel sizes in [3, --crop], got ", s);

  const std::vector<std::string> files = data::list_images(a.input, "synth_blur --input");
  const fs::path out(a.output);
  fs::create_directories(out / "blurred");
  fs::create_directories(out / "sharp");

  // 1. The kernel bank.
  crisp::Generator kgen(crisp::data::sample_seed(a.seed, 0, 0));
  // fill: the trajectory is scaled to span the kernel, so a "13-27 px" kernel blurs 13-27 px, as
  // in the trainers' banks (examples/semantic_common.hpp kernel_bank, demo); unfilled paths
  // cover about a third of their kernel.
  data::MotionBlurOptions mo;
  mo.fill = true;
  data::KernelBank bank;
  {
    train::ProgressBar bar(static_cast<int64_t>(a.sizes.size()) * a.kernels_per_size, {"kernels", "kernel"});
    for (int64_t s : a.sizes)
      for (int64_t i = 0; i < a.kernels_per_size; ++i) {
        bank.push_back(data::motion_blur_kernel(s, kgen, mo));
        bar.update();
      }
  }
  data::save_kernel_bank(bank, (out / "kernels.safetensors").string());

  // 2. Blur every image (in parallel over images; each image has its own Generator).
  const auto n = static_cast<int64_t>(files.size());
  std::vector<Tensor<float>> sharp(static_cast<size_t>(n)), first_blurred(static_cast<size_t>(n));
  std::vector<std::vector<int64_t>> used(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
  data::DegradeOptions dopt;
  dopt.noise_sigma = a.noise;
  {
    train::ProgressBar bar(n * a.per_image, {"blurring", "img"});
    crisp::cpu::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const auto& path = files[static_cast<size_t>(i)];
        try {
          crisp::Generator gen(data::sample_seed(a.seed, 1, static_cast<uint64_t>(i)));
          const Tensor<float> img = square_crop(data::load_image(path, data::ImageMode::RGB), a.crop);
          const std::string stem = data::file_stem(path);
          for (int64_t k = 0; k < a.per_image; ++k) {
            const auto ki = static_cast<int64_t>(gen.uniform_int(bank.size()));
            const Tensor<float> blurred = data::degrade(img, bank[static_cast<size_t>(ki)], gen, dopt);
            const std::string name = stem + "_" + std::to_string(k) + ".png";
            data::save_image(blurred, (out / "blurred" / name).string());
            data::save_image(img, (out / "sharp" / name).string());
            used[static_cast<size_t>(i)].push_back(ki);
            if (k == 0) first_blurred[static_cast<size_t>(i)] = blurred;
            bar.update();
          }
          sharp[static_cast<size_t>(i)] = img;
        } catch (const std::exception& ex) {  // reported after the loop: no throwing across threads
          errors[static_cast<size_t>(i)] = ex.what();
        }
      }
    });
  }
  for (const auto& e : errors)
    if (!e.empty()) throw crisp::IoError("synth_blur: " + e);

  {
    std::ofstream csv(out / "blurred_kernels.csv");
    csv << "file,kernel_index,kernel_size\n";
    for (int64_t i = 0; i < n; ++i)
      for (size_t k = 0; k < used[static_cast<size_t>(i)].size(); ++k) {
        const int64_t ki = used[static_cast<size_t>(i)][k];
        csv << data::file_stem(files[static_cast<size_t>(i)]) << "_" << k << ".png," << ki << ","
            << bank[static_cast<size_t>(ki)].size(0) << "\n";
      }
  }

  // 3. Contact sheet: first kernel of each size (max-normalised, enlarged), then up to 8 faces
  //    as sharp | blurred pairs, four pairs a row. Kernels sit on gray padding so their square
  //    (the kernel size) stays visible around the dark background.
  const int64_t max_size = *std::max_element(a.sizes.begin(), a.sizes.end());
  const int64_t scale = std::max<int64_t>(1, a.crop / max_size);
  std::vector<Tensor<float>> kernels;
  for (size_t s = 0; s < a.sizes.size(); ++s)
    kernels.push_back(train::kernel_image(bank[s * static_cast<size_t>(a.kernels_per_size)], scale));
  std::vector<Tensor<float>> faces;
  const int64_t shown = std::min<int64_t>(n, 8);
  for (int64_t i = 0; i < shown; ++i) {
    const int64_t pick = i * n / shown;  // spread over the folder
    faces.push_back(sharp[static_cast<size_t>(pick)]);
    faces.push_back(first_blurred[static_cast<size_t>(pick)]);
  }
  const Tensor<float> kernel_row = train::make_grid(kernels, {static_cast<int64_t>(kernels.size()), 4, 0.35f});
  const Tensor<float> face_rows = train::make_grid(faces, {8, 4, 1.f});
  const Tensor<float> sheet = train::stack_rows({kernel_row, face_rows}, 0, 1.f);
  data::save_image(sheet, (out / "contact_sheet.png").string());

  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "synth_blur: " << bank.size() << " kernels (" << a.sizes.size() << " sizes), " << n << " images x "
            << a.per_image << " -> " << n * a.per_image << " blurred/sharp pairs of " << a.crop << "x" << a.crop
            << " in " << (out / "blurred").string() << " and " << (out / "sharp").string() << ", contact sheet "
            << (out / "contact_sheet.png").string() << " (" << secs << " s)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"synth_blur: build a motion-blur kernel bank and a paired blurred/sharp dataset from sharp images"};
  Args a;
  app.add_option("--input", a.input, "folder of sharp images (png, jpg, bmp, tga, pgm, ppm)");
  app.add_option("--output", a.output, "output folder (created)");
  app.add_option("--kernels", a.kernels_per_size, "kernels per size in the bank")->capture_default_str();
  app.add_option("--sizes", a.sizes, "kernel sizes, odd, comma separated")->delimiter(',')->capture_default_str();
  app.add_option("--crop", a.crop, "output image side: shorter side resized to it, then centre crop")
      ->capture_default_str();
  app.add_option("--seed", a.seed, "random seed")->capture_default_str();
  app.add_option("--noise", a.noise, "Gaussian noise sigma on [0, 1] images")->capture_default_str();
  app.add_option("--per-image", a.per_image, "blurred versions per sharp image")->capture_default_str();
  app.add_option("--make-demo-input", a.demo_dir, "write a few synthetic images to this folder and exit");
  CRISP_CLI_PARSE(app, argc, argv);
  try {
    if (!a.demo_dir.empty()) {
      make_demo_input(a.demo_dir);
      return 0;
    }
    if (a.input.empty() || a.output.empty()) {
      std::cerr << "synth_blur: expected --input DIR and --output DIR (see --help)\n";
      return 2;
    }
    return run(a);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
