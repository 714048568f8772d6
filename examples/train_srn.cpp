// train_srn: trains SRN-DeblurNet (Tao et al. CVPR 2018, crisp::models::SRN) on blurred/sharp
// pairs - make_pairs' output, synth_blur's, or any two folders of images paired by file name.
//
// usage: train_srn --data PAIRS_DIR [--out DIR] [options]    (PAIRS_DIR/blurred + PAIRS_DIR/sharp)
//        train_srn --blurred DIR --sharp DIR [options]
//        train_srn --help
//
// Recipe (jiangsutx/SRN-Deblur, REFERENCE.md "SRN-DeblurNet"): 3 scales with shared weights,
// multi-scale MSE loss (models::srn_multiscale_loss: the sum over scales of the mean squared
// error to the bilinearly resized sharp image), Adam lr 1e-4 with polynomial decay of power 0.3
// to 0 over --iters steps (lr = 1e-4 (1 - step / iters)^0.3), batch 16, random 256 x 256
// crops (the same window of both images) and random horizontal flips, images in [0, 1].
// Each step draws its pairs at random (with replacement) from a Generator that depends only on
// (--seed, step), so a resumed run sees the batches an uninterrupted one would have.
//
// Output (OUT = --out):
//   OUT/srn.safetensors   the model's state_dict; its metadata holds the constructor options
//                         ("model" = "SRN", channels, scales, scale_factor, base_channels,
//                         num_resblocks, kernel_size, "range" = "[0,1]") for deblur --model srn
//   OUT/log.csv           step, time, loss, mse per scale (coarsest first), psnr of the finest
//                         prediction on the batch, lr
//   OUT/samples/*.png     blurred | prediction at every scale, coarsest first | sharp
//   OUT/checkpoints/      every --checkpoint-every steps and on Ctrl-C; --resume continues
//   OUT/config.ini        the options the run was started with
#include <crisp/crisp.hpp>
#include <crisp/models/srn.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/step_dataset.hpp"
#include "common/cli.hpp"
#include "common/train_loop.hpp"

namespace {

namespace fs = std::filesystem;
namespace data = crisp::data;
namespace models = crisp::models;
namespace ex = crisp::examples;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "train_srn";

struct Args {
  ex::TrainOptions train;
  std::string blurred, sharp;
  int64_t crop = 256, load_size = 0;
  bool no_flip = false, gray = false;
  int64_t base_channels = 32, resblocks = 3, scales = 3, kernel_size = 5;
  double power = 0.3, clip_grad_norm = 0;
  int64_t workers = 2;
};

using crisp::examples::StepDataset;

std::map<std::string, std::string> srn_metadata(const models::SRNOptions& o) {
  char factor[32];
  std::snprintf(factor, sizeof factor, "%.17g", o.scale_factor());
  return {{"model", "SRN"},
          {"channels", std::to_string(o.channels())},
          {"scales", std::to_string(o.scales())},
          {"scale_factor", factor},
          {"base_channels", std::to_string(o.base_channels())},
          {"num_resblocks", std::to_string(o.num_resblocks())},
          {"kernel_size", std::to_string(o.kernel_size())},
          {"range", "[0,1]"},
          {"program", kProgram}};
}

void resolve_folders(Args& a) {
  if (a.blurred.empty() && a.sharp.empty()) {
    CRISP_CHECK(!a.train.data.empty(), crisp::ValueError, kProgram,
                "expected pairs: --data DIR holding DIR/blurred and DIR/sharp (make_pairs' output), or --blurred "
                "DIR and --sharp DIR; got none of them");
    a.blurred = (fs::path(a.train.data) / "blurred").string();
    a.sharp = (fs::path(a.train.data) / "sharp").string();
  }
  CRISP_CHECK(!a.blurred.empty() && !a.sharp.empty(), crisp::ValueError, kProgram,
              "expected both --blurred DIR and --sharp DIR, got only ", a.blurred.empty() ? "--sharp" : "--blurred");
  ex::require_images(a.blurred, std::string(kProgram) + " --blurred");
  ex::require_images(a.sharp, std::string(kProgram) + " --sharp");
}

void check_args(const Args& a) {
  CRISP_CHECK(a.scales >= 1 && a.scales <= 8, crisp::ValueError, kProgram, "expected --scales in [1, 8], got ",
              a.scales);
  const int64_t m = int64_t{4} << (a.scales - 1);
  CRISP_CHECK(a.crop >= m && a.crop % m == 0, crisp::ValueError, kProgram, "expected --crop a positive multiple of ",
              m, " (every one of the ", a.scales, " scales a multiple of 4), got ", a.crop);
  CRISP_CHECK(a.load_size == 0 || a.load_size >= a.crop, crisp::ValueError, kProgram,
              "expected --load-size 0 (keep the images' size) or >= --crop ", a.crop, ", got ", a.load_size);
  CRISP_CHECK(a.base_channels >= 1 && a.resblocks >= 0 && a.kernel_size >= 1 && a.kernel_size % 2 == 1,
              crisp::ValueError, kProgram, "expected --base-channels >= 1, --resblocks >= 0 and an odd --kernel-size, got ",
              a.base_channels, ", ", a.resblocks, " and ", a.kernel_size);
  CRISP_CHECK(a.power >= 0 && a.clip_grad_norm >= 0 && a.workers >= 0, crisp::ValueError, kProgram,
              "expected --power, --clip-grad-norm and --workers >= 0");
}

int run(Args a, const CLI::App& app) {
  ex::check_train_options(a.train, kProgram);
  check_args(a);
  resolve_folders(a);
  data::PairedFolderOptions dopt;
  dopt.load_size = {a.load_size, a.load_size};
  dopt.crop = {a.crop, a.crop};
  dopt.hflip = !a.no_flip;
  dopt.mode = a.gray ? data::ImageMode::Gray : data::ImageMode::RGB;
  auto dataset = std::make_shared<const data::PairedFolderDataset>(a.blurred, a.sharp, dopt);
  ex::write_config(app, (fs::path(a.train.out) / "config.ini").string());
  std::cout << kProgram << ": " << dataset->size() << " pairs of " << a.blurred << " and " << a.sharp << ", "
            << a.crop << " px crops, batch " << a.train.batch_size << "\n";

  Generator init(a.train.seed);
  const auto sopt = models::SRNOptions()
                        .channels(a.gray ? 1 : 3)
                        .scales(a.scales)
                        .base_channels(a.base_channels)
                        .num_resblocks(a.resblocks)
                        .kernel_size(a.kernel_size);
  models::SRN net(sopt, init);
  int64_t nparams = 0;
  for (const auto& p : net->parameters()) nparams += p.numel();
  std::cout << kProgram << ": model: SRN, " << a.scales << " scales, base " << a.base_channels << " channels, "
            << a.resblocks << " ResBlocks per stage, " << nparams << " parameters\n";

  crisp::optim::Adam adam(net->parameters(), crisp::optim::AdamOptions(a.train.lr));
  const auto iters = static_cast<double>(a.train.iters);
  const double power = a.power;
  crisp::optim::LambdaLR sched(adam, [iters, power](int64_t e) {
    return std::pow(std::max(0.0, 1.0 - static_cast<double>(e) / iters), power);
  });

  std::vector<std::string> terms{"loss"};
  const auto sizes = net->level_sizes(a.crop, a.crop);
  for (const auto& s : sizes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "mse_x%g", static_cast<double>(s.first) / static_cast<double>(a.crop));
    terms.push_back(buf);
  }
  terms.push_back("psnr");
  terms.push_back("lr");
  ex::TrainLoop loop(kProgram, a.train, terms);
  loop.track("srn", net, adam, &sched);
  const int64_t start = loop.begin();

  data::DataLoaderOptions lopt;
  lopt.batch_size = a.train.batch_size;
  lopt.num_workers = a.workers;
  data::DataLoader loader(
      StepDataset<data::PairedFolderDataset>(dataset, a.train.seed, start, a.train.iters - start, a.train.batch_size),
      lopt);
  while (loop.next()) {
    auto batch = loader.next();
    CRISP_CHECK(batch.has_value(), crisp::Error, kProgram, "the data loader ran out at step ", loop.step());
    // Under mpirun: this rank's rows of the global batch (the whole batch alone).
    const Tensor<float> blurred = loop.shard(batch->blurred);
    const Tensor<float> sharp = loop.shard(batch->sharp);
    adam.zero_grad();
    const std::vector<Tensor<float>> preds = net(blurred);
    Tensor<float> loss = models::srn_multiscale_loss(preds, sharp);
    loss.backward();
    if (a.clip_grad_norm > 0) crisp::optim::clip_grad_norm_(net->parameters(), a.clip_grad_norm);
    adam.step();
    const double lr = sched.get_last_lr()[0];
    sched.step();

    std::vector<double> values{loss.item()};
    {
      crisp::NoGradGuard no_grad;
      for (const auto& p : preds) values.push_back(models::srn_multiscale_loss<float>({p.detach()}, sharp).item());
      double psnr = 0;
      for (double v : crisp::metrics::batch_psnr(crisp::clamp<float>(preds.back().detach(), 0.f, 1.f), sharp)) psnr += v;
      values.push_back(std::min(psnr / static_cast<double>(sharp.size(0)), 100.0));  // identical images: inf
    }
    values.push_back(lr);
    loop.log(values);
    if (loop.sample_due()) {
      std::vector<Tensor<float>> columns{blurred};
      for (const auto& p : preds) columns.push_back(p.detach());
      columns.push_back(sharp);
      loop.save_samples(columns);
    }
  }
  const std::string weights = loop.path("srn.safetensors");
  if (ex::dist().is_main()) crisp::io::save_safetensors(weights, net->state_dict(), srn_metadata(sopt));
  const int code = loop.finish();
  std::cout << kProgram << ": wrote " << weights << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"train_srn: train SRN-DeblurNet on blurred/sharp pairs with the multi-scale MSE loss"};
  Args a;
  a.train.out = "runs/srn";
  a.train.iters = 100000;
  a.train.batch_size = 16;
  a.train.lr = 1e-4;
  a.train.checkpoint_every = 2000;
  a.train.sample_every = 500;
  a.train.log_every = 20;
  ex::add_train_options(app, a.train);
  app.get_option("--data")->description("pairs folder: DATA/blurred and DATA/sharp, files paired by name");
  app.add_option("--blurred", a.blurred, "folder of blurred images (overrides --data)");
  app.add_option("--sharp", a.sharp, "folder of sharp images, same file names (overrides --data)");
  app.add_option("--crop", a.crop, "random square crop side (a multiple of 4 * 2^(scales - 1))")->capture_default_str();
  app.add_option("--load-size", a.load_size, "images resized to this square first (0: keep their size)")
      ->capture_default_str();
  app.add_flag("--no-flip", a.no_flip, "no random horizontal flips");
  app.add_flag("--gray", a.gray, "train a one-channel (grayscale) model");
  app.add_option("--base-channels", a.base_channels, "width of the full-resolution stage (2x, 4x deeper)")
      ->capture_default_str();
  app.add_option("--resblocks", a.resblocks, "ResBlocks per encoder / decoder stage")->capture_default_str();
  app.add_option("--scales", a.scales, "levels of the pyramid")->capture_default_str();
  app.add_option("--kernel-size", a.kernel_size, "conv kernel size (odd)")->capture_default_str();
  app.add_option("--power", a.power, "polynomial lr decay power (lr -> 0 at --iters)")->capture_default_str();
  app.add_option("--clip-grad-norm", a.clip_grad_norm, "clip the gradient's global norm to this (0: off)")
      ->capture_default_str();
  app.add_option("--workers", a.workers, "data loading threads (0: load on the training thread)")
      ->capture_default_str();
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a, app); });
}
