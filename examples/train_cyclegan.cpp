// train_cyclegan: unpaired CycleGAN between sharp faces (domain A) and blurred faces (domain B),
// with the official pytorch-CycleGAN-and-pix2pix recipe; its G_A (sharp -> blurred) is what
// make_pairs runs to label a paired deblurring dataset (the CycleGAN -> SRN paper's first step).
//
// usage: train_cyclegan --sharp DIR --blurred DIR [--out DIR] [options]
//        train_cyclegan --data ROOT        (ROOT/trainA = sharp, ROOT/trainB = blurred: the official layout)
//        train_cyclegan --help
//
// Recipe (the official defaults, REFERENCE.md "CycleGAN"): ResnetGenerator 9 blocks and 70x70
// PatchGAN, ngf = ndf = 64, InstanceNorm, init N(0, 0.02); least-squares GAN (MSE to 1 / 0;
// --gan-loss log: the log loss of the CycleGAN -> SRN paper's eq. 1, BCE on the PatchGAN logits);
// lambda_A = lambda_B = 10, identity 0.5 (x lambda); an ImagePool of 50 fakes per
// discriminator; Adam 2e-4, betas (0.5, 0.999), one optimiser for both generators and one for
// both discriminators; batch 1; images resized to 286 x 286, random 256 crop, random flip, in
// [-1, 1]. Each step: the generator step with both discriminators frozen, then the
// discriminator step with its 0.5 factor.
// Length: 100 epochs at the base lr, then 100 epochs of linear decay (an epoch = max(|A|, |B|)
// steps), as the official n_epochs / n_epochs_decay; or --iters N with the last --iters-decay
// steps decaying. The lr follows the official 'linear' policy, stepped once per iteration.
//
// Differences from the official code, on purpose:
//  - Each step draws its A image and B image at random (with replacement) from a Generator
//    that depends only on (--seed, step), instead of walking A in order; a resumed run sees
//    the same images as an uninterrupted one.
//  - The ImagePools are not part of the checkpoint: a resumed run refills them, as the
//    official --continue_train does.
//
// Output (OUT = --out):
//   OUT/G_A.safetensors, OUT/G_B.safetensors   the generators' state_dicts with the official key
//       names; their metadata holds the constructor options ("model" = "ResnetGenerator",
//       input_nc, output_nc, ngf, n_blocks, norm, use_dropout, "direction", "range" = "[-1,1]"),
//       which make_pairs and deblur read to rebuild the network
//   OUT/log.csv           step, time, G_A, G_B, cycle_A, cycle_B, idt_A, idt_B, D_A, D_B, lr
//   OUT/samples/*.png     real_A | fake_B | rec_A | real_B | fake_A | rec_B
//   OUT/checkpoints/      every --checkpoint-every steps and on Ctrl-C; --resume continues
//   OUT/config.ini        the options the run was started with
#include <crisp/crisp.hpp>
#include <crisp/models/cyclegan.hpp>
#include <crisp/models/image_pool.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/step_dataset.hpp"
#include "common/cli.hpp"
#include "common/train_loop.hpp"

namespace {

namespace fs = std::filesystem;
namespace data = crisp::data;
namespace nn = crisp::nn;
namespace models = crisp::models;
namespace ex = crisp::examples;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "train_cyclegan";

struct Args {
  ex::TrainOptions train;
  std::string sharp, blurred;
  int64_t ngf = 64, ndf = 64, n_blocks = 9, n_layers = 3;
  int64_t load_size = 286, crop = 256;
  bool no_flip = false;
  double lambda_a = 10, lambda_b = 10, lambda_identity = 0.5, beta1 = 0.5;
  int64_t pool_size = 50;
  int64_t n_epochs = 100, n_epochs_decay = 100, iters_decay = -1;
  int64_t workers = 2;
  std::string gan_loss = "lsgan";
};

// ---- the networks --------------------------------------------------------------------------

// Two networks saved as one checkpoint entry ("G_A.*" and "G_B.*" keys, or D_A / D_B), since
// one optimiser steps both.
class NetPairImpl : public nn::Module {
 public:
  template <class A, class B>
  NetPairImpl(const std::string& name_a, A a, const std::string& name_b, B b) : nn::Module("NetPair") {
    register_module(name_a, a);
    register_module(name_b, b);
  }
};

// The metadata make_pairs and deblur read to rebuild a generator.
std::map<std::string, std::string> generator_metadata(const models::ResnetGeneratorOptions& o,
                                                      const std::string& direction, const std::string& gan_loss) {
  return {{"model", "ResnetGenerator"},
          {"input_nc", std::to_string(o.input_nc())},
          {"output_nc", std::to_string(o.output_nc())},
          {"ngf", std::to_string(o.ngf())},
          {"n_blocks", std::to_string(o.n_blocks())},
          {"norm", "instance"},
          {"use_dropout", o.use_dropout() ? "true" : "false"},
          {"direction", direction},
          {"range", "[-1,1]"},
          {"gan_loss", gan_loss},
          {"program", kProgram}};
}

void set_requires_grad(nn::Module& m, bool value) {
  for (auto& p : m.parameters()) p.requires_grad_(value);
}

// ---- data ----------------------------------------------------------------------------------

using crisp::examples::StepDataset;

// [0, 1] images -> [-1, 1], the generators' range.
Tensor<float> to_signed(const Tensor<float>& x) { return x * 2.f + (-1.f); }

void resolve_folders(Args& a) {
  if (a.sharp.empty() && a.blurred.empty()) {
    CRISP_CHECK(!a.train.data.empty(), crisp::ValueError, kProgram,
                "expected the two domains: --sharp DIR and --blurred DIR, or --data ROOT holding ROOT/trainA "
                "(sharp) and ROOT/trainB (blurred); got none of them");
    a.sharp = (fs::path(a.train.data) / "trainA").string();
    a.blurred = (fs::path(a.train.data) / "trainB").string();
  }
  CRISP_CHECK(!a.sharp.empty() && !a.blurred.empty(), crisp::ValueError, kProgram,
              "expected both --sharp DIR and --blurred DIR, got only ", a.sharp.empty() ? "--blurred" : "--sharp");
  ex::require_images(a.sharp, std::string(kProgram) + " --sharp");
  ex::require_images(a.blurred, std::string(kProgram) + " --blurred");
}

void check_args(const Args& a) {
  CRISP_CHECK(a.crop >= 8 && a.crop % 4 == 0, crisp::ValueError, kProgram,
              "expected --crop a multiple of 4 and at least 8 (the generator halves the image twice), got ", a.crop);
  CRISP_CHECK(a.load_size == 0 || a.load_size >= a.crop, crisp::ValueError, kProgram,
              "expected --load-size 0 (keep the image size) or >= --crop ", a.crop, ", got ", a.load_size);
  CRISP_CHECK(a.ngf >= 1 && a.ndf >= 1 && a.n_blocks >= 0 && a.n_layers >= 1, crisp::ValueError, kProgram,
              "expected --ngf, --ndf, --n-layers >= 1 and --n-blocks >= 0, got ", a.ngf, ", ", a.ndf, ", ", a.n_layers,
              " and ", a.n_blocks);
  const int64_t min_d = int64_t{3} << std::max<int64_t>(1, a.n_layers);
  CRISP_CHECK(a.crop >= min_d, crisp::ValueError, kProgram, "expected --crop >= ", min_d, " for a PatchGAN with --n-layers ",
              a.n_layers, ", got ", a.crop);
  CRISP_CHECK(a.lambda_a >= 0 && a.lambda_b >= 0 && a.lambda_identity >= 0, crisp::ValueError, kProgram,
              "expected non-negative --lambda-A, --lambda-B and --lambda-identity");
  CRISP_CHECK(a.pool_size >= 0 && a.workers >= 0, crisp::ValueError, kProgram,
              "expected --pool-size >= 0 and --workers >= 0, got ", a.pool_size, " and ", a.workers);
  CRISP_CHECK(a.gan_loss == "lsgan" || a.gan_loss == "log", crisp::ValueError, kProgram,
              "expected --gan-loss lsgan (least squares, the official default) or log (the paper's eq. 1), got '",
              a.gan_loss, "'");
  CRISP_CHECK(a.n_epochs >= 0 && a.n_epochs_decay >= 0 && a.n_epochs + a.n_epochs_decay >= 1, crisp::ValueError,
              kProgram, "expected --n-epochs, --n-epochs-decay >= 0 with a positive sum, got ", a.n_epochs, " and ",
              a.n_epochs_decay);
}

int run(Args a, bool iters_given, const CLI::App& app) {
  check_args(a);
  resolve_folders(a);
  data::UnpairedFolderOptions dopt;
  dopt.load_size = {a.load_size, a.load_size};
  dopt.crop = {a.crop, a.crop};
  dopt.hflip = !a.no_flip;
  auto dataset = std::make_shared<const data::UnpairedFolderDataset>(a.sharp, a.blurred, dopt);

  // The length: epochs of max(|A|, |B|) steps (per batch) unless --iters was given.
  int64_t decay = 0;
  if (iters_given) {
    decay = a.iters_decay < 0 ? a.train.iters / 2 : a.iters_decay;
    CRISP_CHECK(decay <= a.train.iters, crisp::ValueError, kProgram, "expected --iters-decay <= --iters ",
                a.train.iters, ", got ", decay);
  } else {
    const int64_t per_epoch = std::max<int64_t>(1, dataset->size() / a.train.batch_size);
    a.train.iters = (a.n_epochs + a.n_epochs_decay) * per_epoch;
    decay = a.n_epochs_decay * per_epoch;
  }
  ex::check_train_options(a.train, kProgram);
  ex::write_config(app, (fs::path(a.train.out) / "config.ini").string());
  std::cout << kProgram << ": A (sharp) " << dataset->files_a().size() << " images of " << a.sharp << ", B (blurred) "
            << dataset->files_b().size() << " images of " << a.blurred << "; " << a.train.iters << " steps, the last "
            << decay << " with linear lr decay\n";

  Generator init(a.train.seed);
  auto gopt = models::ResnetGeneratorOptions(3, 3).ngf(a.ngf).n_blocks(a.n_blocks);
  auto dopts = models::NLayerDiscriminatorOptions(3).ndf(a.ndf).n_layers(a.n_layers);
  models::ResnetGenerator G_A(gopt, init), G_B(gopt, init);
  models::NLayerDiscriminator D_A(dopts, init), D_B(dopts, init);
  for (nn::Module* m : {static_cast<nn::Module*>(G_A.get()), static_cast<nn::Module*>(G_B.get()),
                        static_cast<nn::Module*>(D_A.get()), static_cast<nn::Module*>(D_B.get())})
    models::init_cyclegan_weights(*m, 0.02, init);
  auto gens = std::make_shared<NetPairImpl>("G_A", G_A, "G_B", G_B);
  auto discs = std::make_shared<NetPairImpl>("D_A", D_A, "D_B", D_B);
  int64_t ng = 0, nd = 0;
  for (const auto& p : G_A->parameters()) ng += p.numel();
  for (const auto& p : D_A->parameters()) nd += p.numel();
  std::cout << kProgram << ": each generator " << ng << " parameters (ngf " << a.ngf << ", " << a.n_blocks
            << " blocks), each discriminator " << nd << " (ndf " << a.ndf << ", " << a.n_layers << " layers); GAN loss "
            << (a.gan_loss == "log" ? "log (BCE, the paper's eq. 1)" : "least squares (lsgan)") << "\n";

  using crisp::optim::Adam;
  using crisp::optim::AdamOptions;
  Adam opt_g(gens->parameters(), AdamOptions(a.train.lr).betas(crisp::optim::Betas{a.beta1, 0.999}));
  Adam opt_d(discs->parameters(), AdamOptions(a.train.lr).betas(crisp::optim::Betas{a.beta1, 0.999}));
  crisp::optim::LinearDecayLR sched_g(opt_g, a.train.iters - decay, decay);
  crisp::optim::LinearDecayLR sched_d(opt_d, a.train.iters - decay, decay);
  models::ImagePool pool_fake_a(a.pool_size, data::sample_seed(a.train.seed, 7, 0));
  models::ImagePool pool_fake_b(a.pool_size, data::sample_seed(a.train.seed, 7, 1));

  ex::TrainLoop loop(kProgram, a.train, {"G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B", "lr"});
  loop.track("G", gens, opt_g, &sched_g);
  loop.track("D", discs, opt_d, &sched_d);
  const int64_t start = loop.begin();

  data::DataLoaderOptions lopt;
  lopt.batch_size = a.train.batch_size;
  lopt.num_workers = a.workers;
  data::DataLoader loader(StepDataset<data::UnpairedFolderDataset>(dataset, a.train.seed, start,
                                                                   a.train.iters - start, a.train.batch_size),
                          lopt);
  const bool identity = a.lambda_identity > 0;
  const auto lam_a = static_cast<float>(a.lambda_a), lam_b = static_cast<float>(a.lambda_b);
  const auto lam_idt = static_cast<float>(a.lambda_identity);
  const crisp::loss::GanMode gan_mode = a.gan_loss == "log" ? crisp::loss::GanMode::Vanilla : crisp::loss::GanMode::LeastSquares;
  auto gan_generator_loss = [gan_mode](const Tensor<float>& fake) { return crisp::loss::gan_generator_loss(fake, gan_mode); };
  auto gan_discriminator_loss = [gan_mode](const Tensor<float>& real, const Tensor<float>& fake) {
    return crisp::loss::gan_discriminator_loss(real, fake, gan_mode);
  };
  using crisp::loss::l1;
  while (loop.next()) {
    auto batch = loader.next();
    CRISP_CHECK(batch.has_value(), crisp::Error, kProgram, "the data loader ran out at step ", loop.step());
    // Under mpirun: this rank's rows of the global batch (the whole batch alone).
    const Tensor<float> real_a = to_signed(loop.shard(batch->a)), real_b = to_signed(loop.shard(batch->b));

    // Generators, with both discriminators frozen (their weights get no gradient).
    set_requires_grad(*discs, false);
    opt_g.zero_grad();
    const Tensor<float> fake_b = G_A(real_a), rec_a = G_B(fake_b);
    const Tensor<float> fake_a = G_B(real_b), rec_b = G_A(fake_a);
    Tensor<float> loss_idt_a = crisp::scalar_tensor<float>(0.f), loss_idt_b = crisp::scalar_tensor<float>(0.f);
    if (identity) {
      loss_idt_a = l1(G_A(real_b), real_b) * (lam_b * lam_idt);  // G_A should leave B images alone
      loss_idt_b = l1(G_B(real_a), real_a) * (lam_a * lam_idt);
    }
    const Tensor<float> loss_g_a = gan_generator_loss(D_A(fake_b));
    const Tensor<float> loss_g_b = gan_generator_loss(D_B(fake_a));
    const Tensor<float> loss_cycle_a = l1(rec_a, real_a) * lam_a;
    const Tensor<float> loss_cycle_b = l1(rec_b, real_b) * lam_b;
    Tensor<float> loss_g = loss_g_a + loss_g_b + loss_cycle_a + loss_cycle_b;
    if (identity) loss_g = loss_g + loss_idt_a + loss_idt_b;
    loss_g.backward();
    opt_g.step();

    // Discriminators on real images and on fakes drawn through the pools.
    set_requires_grad(*discs, true);
    opt_d.zero_grad();
    const Tensor<float> pooled_b = pool_fake_b.query(fake_b.detach());
    const Tensor<float> loss_d_a = gan_discriminator_loss(D_A(real_b), D_A(pooled_b));
    loss_d_a.backward();
    const Tensor<float> pooled_a = pool_fake_a.query(fake_a.detach());
    const Tensor<float> loss_d_b = gan_discriminator_loss(D_B(real_a), D_B(pooled_a));
    loss_d_b.backward();
    opt_d.step();

    const double lr = sched_g.get_last_lr()[0];
    sched_g.step();
    sched_d.step();
    loop.log({loss_g_a.item(), loss_g_b.item(), loss_cycle_a.item(), loss_cycle_b.item(), loss_idt_a.item(),
              loss_idt_b.item(), loss_d_a.item(), loss_d_b.item(), lr});
    if (loop.sample_due()) loop.save_samples({real_a, fake_b, rec_a, real_b, fake_a, rec_b}, 4, -1.f, 1.f);
  }
  const std::string pa = loop.path("G_A.safetensors"), pb = loop.path("G_B.safetensors");
  if (ex::dist().is_main()) {  // under mpirun rank 0 writes
    crisp::io::save_safetensors(pa, G_A->state_dict(), generator_metadata(gopt, "A->B (sharp->blurred)", a.gan_loss));
    crisp::io::save_safetensors(pb, G_B->state_dict(), generator_metadata(gopt, "B->A (blurred->sharp)", a.gan_loss));
  }
  const int code = loop.finish();
  std::cout << kProgram << ": wrote " << pa << " (sharp -> blurred, for make_pairs) and " << pb << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"train_cyclegan: unpaired CycleGAN between sharp (A) and blurred (B) faces, official recipe"};
  Args a;
  a.train.out = "runs/cyclegan";
  a.train.batch_size = 1;
  a.train.lr = 2e-4;
  a.train.checkpoint_every = 2000;
  a.train.sample_every = 400;
  a.train.log_every = 50;
  ex::add_train_options(app, a.train);
  app.get_option("--data")->description("root folder with trainA/ (sharp) and trainB/ (blurred), the official layout");
  app.get_option("--iters")
      ->description("total steps (default: (--n-epochs + --n-epochs-decay) epochs of max(|A|, |B|) images)")
      ->default_str("");
  app.add_option("--sharp", a.sharp, "domain A: folder of sharp images (overrides --data)");
  app.add_option("--blurred", a.blurred, "domain B: folder of blurred images (overrides --data)");
  app.add_option("--n-epochs", a.n_epochs, "epochs at the base lr (when --iters is not given)")->capture_default_str();
  app.add_option("--n-epochs-decay", a.n_epochs_decay, "epochs of linear lr decay (when --iters is not given)")
      ->capture_default_str();
  app.add_option("--iters-decay", a.iters_decay, "with --iters: the last steps with linear decay (default half)");
  app.add_option("--ngf", a.ngf, "generator width")->capture_default_str();
  app.add_option("--ndf", a.ndf, "discriminator width")->capture_default_str();
  app.add_option("--n-blocks", a.n_blocks, "ResnetBlocks in each generator")->capture_default_str();
  app.add_option("--n-layers", a.n_layers, "PatchGAN stride-2 layers (3 = 70x70 patches)")->capture_default_str();
  app.add_option("--load-size", a.load_size, "images resized to this square first (0: keep their size)")
      ->capture_default_str();
  app.add_option("--crop", a.crop, "random square crop side (multiple of 4)")->capture_default_str();
  app.add_flag("--no-flip", a.no_flip, "no random horizontal flips");
  app.add_option("--lambda-A", a.lambda_a, "weight of the cycle loss A -> B -> A")->capture_default_str();
  app.add_option("--lambda-B", a.lambda_b, "weight of the cycle loss B -> A -> B")->capture_default_str();
  app.add_option("--lambda-identity", a.lambda_identity, "identity loss weight, times lambda (0: off)")
      ->capture_default_str();
  app.add_option("--beta1", a.beta1, "Adam beta1")->capture_default_str();
  app.add_option("--gan-loss", a.gan_loss,
                 "lsgan (least squares, the official default) or log (BCE on the logits: the paper's eq. 1)")
      ->capture_default_str();
  app.add_option("--pool-size", a.pool_size, "fakes kept per discriminator's image pool (0: none)")
      ->capture_default_str();
  app.add_option("--workers", a.workers, "data loading threads (0: load on the training thread)")
      ->capture_default_str();
  CRISP_CLI_PARSE(app, argc, argv);
  const bool iters_given = app.count("--iters") > 0;
  return ex::run_main(kProgram, [&] { return run(a, iters_given, app); });
}
