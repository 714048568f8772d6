// train_semantic_deblur: the semantic face deblurring recipe (Shen et al., CVPR 2018) - a frozen
// parsing net, the two-scale deblurring net, content + structural + perceptual + adversarial
// losses, the incremental kernel curriculum - with a flag for each ablation row of its Table 2.
//
// usage: train_semantic_deblur --data ../shared/data/faces --parsing runs/parsing/parsing.safetensors
//                              --holdout 4 --out runs/deblur
//        ... --no-semantics | --no-structural | --no-perceptual | --no-adversarial | --direct
//
// Data: every image of --data (aligned faces) resized to --size; the last --holdout images are
// never trained on and are scored at the end (and every --eval-every steps into OUT/eval.csv):
// PSNR / SSIM of the blurred input and of the restored face, central --crop windows blurred with
// fixed kernels. Training pairs: a random --crop window (mirrored with probability 1/2), blurred
// with a camera-shake kernel from the curriculum (--kernel-min..--kernel-max, odd sizes; a new
// size joins every --stage-iters steps, earlier ones still drawn; --direct: all from the start),
// plus Gaussian noise (--noise, sigma 0.01).
// Losses, as the paper (L = Lc + ls Ls + lp Lp + ladv Ladv):
//   Lc    L1 of both scales (scale 1 against the 2x2-averaged sharp face, as the net's input)
//   Ls    masked L1 over the 5 component masks (eyebrows, eyes, nose, lips, inner mouth) of the
//         frozen parser's output on the blurred input, both scales (masks 2x2-max-pooled)
//   Lp    feature MSE on scale 2 only: VGG16 pool2 + pool5 with --vgg (torchvision's weights,
//         exported by tools/export_vgg16.py), or face-api.js's face recognition net's intermediate
//         features with --perceptual faceid --face-api DIR (a face-recognition net, as the paper's
//         VGG-Face); without either it is off (said on stdout, and the weights' metadata records
//         "perceptual" = "off ...")
//   Ladv  DCGANDiscriminator (sigmoid output, BCE; LeakyReLU 0.2 as DCGAN, or the ReLU of the
//         paper's text with --disc-activation relu) on scale 2; the discriminator has its own
//         Adam (--lr-d, betas 0.5 / 0.999 as DCGAN) and is tracked in the checkpoints
// Reductions are means (Lc, Ls: per element of the batch; Ls over the masked image) rather than
// the paper's sums; Lc and Ls keep the paper's ratio (both scale alike), Lp and Ladv stay small.
// Outputs in --out: deblur.safetensors (state_dict + shape metadata, read by deblur / evaluate),
// log.csv (every loss term), eval.csv, holdout.md, holdout.png (blurred | restored | sharp | parse),
// samples/, checkpoints/. --minutes M stops cleanly (checkpoint, weights, scores) after M minutes.
#include <crisp/crisp.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "common/cli.hpp"
#include "common/train_loop.hpp"
#include "face_identity.hpp"
#include "semantic_common.hpp"

namespace {

namespace ex = crisp::examples;
namespace sem = crisp::examples::semantic;
namespace data = crisp::data;
namespace models = crisp::models;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "train_semantic_deblur";

struct Args {
  ex::TrainOptions train;
  std::string parsing, vgg, perceptual, face_api, disc_activation = "leaky";
  int64_t size = 160, crop = 128, holdout = 0, channels = 64, resblocks = 6, ndf = 64;
  bool official = false, residual = false, no_semantics = false, no_structural = false, no_perceptual = false,
       no_adversarial = false, direct = false;
  double lambda_s = 50, lambda_p = 1e-5, lambda_adv = 5e-5, lr_d = 0, noise = 0.01, minutes = 0, lr_min = 0;
  bool cosine = false;
  int64_t kernel_min = 13, kernel_max = 27, kernels_per_size = 100, stage_iters = 30000;
  int64_t eval_every = 0, eval_kernels = 2;
};

struct Holdout {
  Tensor<float> blurred, sharp;
  std::vector<int64_t> kernel_size;
};

struct Scores {
  double psnr_blurred, psnr_restored, ssim_blurred, ssim_restored;
};

// Under mpirun each rank restores its share of the held-out crops and the sums are all-reduced;
// restored_out / probs_out get this rank's share (rank 0's: the first crops).
Scores score(models::SemanticDeblurNet& net, models::FaceParsingNet* parser, const Holdout& h,
             Tensor<float>* restored_out = nullptr, Tensor<float>* probs_out = nullptr) {
  const auto& d = ex::dist();
  const Tensor<float> hb = d.shard(h.blurred), hs = d.shard(h.sharp);
  std::vector<double> sums{0, 0, 0, 0};
  Tensor<float> r;
  if (hb.size(0) > 0) {
    r = sem::restore_semantic(net, parser, hb, 4, probs_out);
    auto total = [](const std::vector<double>& v) { return sem::mean(v) * static_cast<double>(v.size()); };
    sums = {total(crisp::metrics::batch_psnr(hb, hs)), total(crisp::metrics::batch_psnr(r, hs)),
            total(crisp::metrics::batch_ssim(hb, hs)), total(crisp::metrics::batch_ssim(r, hs))};
  }
  if (restored_out) *restored_out = r;
  sums = d.sum(sums);
  const double n = static_cast<double>(h.blurred.size(0));
  return {sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n};
}

int run(Args& a, CLI::App& app) {
  ex::check_train_options(a.train, kProgram);
  CRISP_CHECK(a.crop >= 32 && a.crop % 32 == 0 && a.size >= a.crop, crisp::ValueError, kProgram,
              "expected --crop a multiple of 32 (the parser pools 5 times) and --size >= --crop, got --crop ", a.crop,
              " and --size ", a.size);
  CRISP_CHECK(a.kernel_min >= 3 && a.kernel_min % 2 == 1 && a.kernel_max >= a.kernel_min && a.kernel_max % 2 == 1,
              crisp::ValueError, kProgram, "expected odd kernel sizes 3 <= --kernel-min <= --kernel-max, got ",
              a.kernel_min, " and ", a.kernel_max);
  CRISP_CHECK(a.channels >= 1 && a.resblocks >= 0 && a.ndf >= 1 && a.kernels_per_size >= 1 && a.stage_iters >= 1 &&
                  a.eval_kernels >= 1 && a.holdout >= 0 && a.eval_every >= 0,
              crisp::ValueError, kProgram,
              "expected --channels, --ndf, --kernels-per-size, --stage-iters, --eval-kernels >= 1 and --resblocks, "
              "--holdout, --eval-every >= 0");
  const bool need_parser = !a.no_semantics || !a.no_structural;
  if (a.parsing.empty()) {
    CRISP_CHECK(a.no_semantics, crisp::ValueError, kProgram,
                "expected --parsing weights.safetensors (a FaceParsingNet trained with train_parsing): the semantic "
                "net needs its probabilities; pass --no-semantics to train without (then also without the "
                "structural loss, whose masks come from the parser)");
    if (!a.no_structural)
      std::cout << kProgram << ": no --parsing weights: training without the structural loss\n";
    a.no_structural = true;
  }
  const auto files = ex::require_images(a.train.data, std::string(kProgram) + " --data");
  CRISP_CHECK(static_cast<int64_t>(files.size()) > a.holdout, crisp::IoError, kProgram, "--data '", a.train.data,
              "' has ", files.size(), " images; expected more than --holdout ", a.holdout);
  const auto split = files.end() - a.holdout;
  const std::vector<Tensor<float>> train_faces = sem::load_faces({files.begin(), split}, a.size);
  const std::vector<Tensor<float>> held_faces = sem::load_faces({split, files.end()}, a.size);

  // Models.
  std::unique_ptr<models::FaceParsingNet> parser;
  if (need_parser && !a.parsing.empty()) parser = std::make_unique<models::FaceParsingNet>(sem::load_parser(a.parsing, kProgram));
  Generator init(a.train.seed);
  models::SemanticDeblurNetOptions no;
  no.semantics(!a.no_semantics).official(a.official).residual(a.residual).channels(a.channels);
  if (!a.official || a.resblocks != 6) no.num_resblocks(a.resblocks);
  models::SemanticDeblurNet net(no, init);
  CRISP_CHECK(a.disc_activation == "leaky" || a.disc_activation == "relu", crisp::ValueError, kProgram,
              "expected --disc-activation leaky (DCGAN's LeakyReLU 0.2) or relu (the paper's text), got '",
              a.disc_activation, "'");
  models::DCGANDiscriminator disc(
      models::DCGANDiscriminatorOptions().ndf(a.ndf).image_size(a.crop).leaky(a.disc_activation == "leaky"), init);
  // The perceptual loss's feature network: --perceptual vgg (torchvision VGG16 from --vgg, the
  // default when --vgg is given) or faceid (face-api.js's face recognition net from --face-api DIR: a
  // face-recognition network, as the paper's VGG-Face). Without either, Lp is off - said here and
  // recorded in the weights' metadata ("perceptual").
  std::string perceptual = a.perceptual.empty() ? (a.vgg.empty() ? "" : "vgg") : a.perceptual;
  CRISP_CHECK(perceptual.empty() || perceptual == "vgg" || perceptual == "faceid", crisp::ValueError, kProgram,
              "expected --perceptual vgg or faceid, got '", perceptual, "'");
  CRISP_CHECK(perceptual != "vgg" || !a.vgg.empty(), crisp::ValueError, kProgram,
              "--perceptual vgg needs --vgg FILE (torchvision VGG16 weights, tools/export_vgg16.py)");
  std::string perceptual_record;
  if (a.no_perceptual) {
    perceptual_record = "off (--no-perceptual)";
  } else if (perceptual.empty()) {
    std::cout << kProgram << ": no --vgg weights and no --perceptual faceid: training without the perceptual loss (Lp off)\n";
    perceptual_record = "off (no --vgg or --perceptual faceid weights)";
    a.no_perceptual = true;
  }
  std::unique_ptr<models::VGG16Features> vgg;
  std::unique_ptr<ex::FacePerceptualFeatures> faceid;
  if (!a.no_perceptual && perceptual == "vgg") {
    vgg = std::make_unique<models::VGG16Features>();
    (*vgg)->load_torchvision(a.vgg);
    for (auto& p : (*vgg)->parameters()) p.requires_grad_(false);
    (*vgg)->eval();
    perceptual_record = "vgg16 pool2+pool5 (" + sem::fs::path(a.vgg).filename().string() + ")";
  } else if (!a.no_perceptual) {
    CRISP_CHECK(a.crop >= 128, crisp::ValueError, kProgram,
                "--perceptual faceid needs --crop >= 128 (the recognition net takes faces of at least 103 px), got ",
                a.crop);
    faceid = std::make_unique<ex::FacePerceptualFeatures>(a.face_api, kProgram);
    perceptual_record = "faceid " + faceid->description();
  }
  const double lp = a.no_perceptual ? 0 : a.lambda_p, ls = a.no_structural ? 0 : a.lambda_s,
               ladv = a.no_adversarial ? 0 : a.lambda_adv;
  int64_t nparams = 0;
  for (const auto& p : net->parameters()) nparams += p.numel();
  std::cout << kProgram << ": SemanticDeblurNet(semantics " << (no.semantics() ? "on" : "off") << ", channels "
            << no.channels() << ", resblocks " << no.num_resblocks() << (a.official ? ", official" : "")
            << (a.residual ? ", residual" : "") << "), "
            << nparams << " parameters; " << train_faces.size() << " training faces, " << held_faces.size()
            << " held out, " << a.crop << "x" << a.crop << " crops of " << a.size << "x" << a.size << "\n"
            << kProgram << ": L = Lc + " << ls << " Ls + " << lp << " Lp + " << ladv << " Ladv; kernels "
            << a.kernel_min << "-" << a.kernel_max << (a.direct ? " from the start (direct)" : "")
            << (a.direct ? "" : ", one more size every " + std::to_string(a.stage_iters) + " steps") << "\n";

  // Kernels: training bank through the curriculum; fixed held-out kernels from another seed.
  const auto sizes = sem::odd_sizes(a.kernel_min, a.kernel_max);
  data::CurriculumOptions co;
  co.sizes = sizes;
  co.iterations_per_stage = a.stage_iters;
  co.direct = a.direct;
  const data::KernelCurriculum curriculum(sem::kernel_bank(sizes, a.kernels_per_size, data::sample_seed(a.train.seed, 1, 0)),
                                          co);
  Holdout hold;
  if (!held_faces.empty()) {
    const data::KernelBank eval_bank = sem::kernel_bank(sizes, 1, data::sample_seed(a.train.seed, 2, 0));
    Generator g(data::sample_seed(a.train.seed, 3, 0));
    std::vector<Tensor<float>> bs, ss;
    for (size_t i = 0; i < held_faces.size(); ++i)
      for (int64_t j = 0; j < a.eval_kernels; ++j) {
        const auto& k = eval_bank[(i * static_cast<size_t>(a.eval_kernels) + static_cast<size_t>(j)) % eval_bank.size()];
        auto [b, s] = sem::blurred_pair(held_faces[i], k, a.crop, a.noise, g, true);
        bs.push_back(b);
        ss.push_back(s);
        hold.kernel_size.push_back(k.size(0));
      }
    hold.blurred = crisp::stack(bs, 0);
    hold.sharp = crisp::stack(ss, 0);
  }

  crisp::optim::Adam adam(net->parameters(), crisp::optim::AdamOptions(a.train.lr));
  crisp::optim::Adam adam_d(disc->parameters(),
                            crisp::optim::AdamOptions(a.lr_d > 0 ? a.lr_d : a.train.lr).betas({0.5, 0.999}));
  // The paper keeps the rate constant; --cosine anneals it to --lr-min over --iters (short runs
  // end at a lower noise floor).
  std::unique_ptr<crisp::optim::CosineAnnealingLR> sched;
  if (a.cosine) sched = std::make_unique<crisp::optim::CosineAnnealingLR>(adam, a.train.iters, a.lr_min);
  ex::TrainLoop loop(kProgram, a.train,
                     {"content1", "content2", "structural1", "structural2", "perceptual", "adv_g", "adv_d", "total",
                      "kernel_max", "lr"});
  loop.track("deblur", net, adam, sched.get());
  if (!a.no_adversarial) loop.track("discriminator", disc, adam_d);
  // The frozen networks run beside the trained ones, on --device.
  if (parser) (*parser)->to(loop.device());
  if (vgg) (*vgg)->to(loop.device());
  if (faceid) faceid->to(loop.device());
  ex::write_config(app, loop.path("config.ini"));
  loop.begin();
  std::unique_ptr<ex::CsvLog> eval_log;
  if (a.eval_every > 0 && hold.blurred.defined()) {
    if (ex::dist().is_main())  // rank 0 writes; every rank scores its share
      eval_log = std::make_unique<ex::CsvLog>(
        loop.path("eval.csv"), std::vector<std::string>{"psnr_blurred", "psnr_restored", "ssim_blurred", "ssim_restored"},
        loop.start_step() > 0 ? loop.start_step() : -1);
    if (loop.start_step() == 0) {
      const Scores s = score(net, parser.get(), hold);
      if (eval_log) eval_log->write(0, loop.elapsed_s(), {s.psnr_blurred, s.psnr_restored, s.ssim_blurred, s.ssim_restored});
    }
  }
  // The paper's discriminator ends in a sigmoid: binary cross entropy on its probabilities (each
  // log clamped at -100, as PyTorch's BCELoss, so a saturated D gives finite losses).
  auto bce_to = [](const Tensor<float>& p, float label) {
    return crisp::loss::bce(p, crisp::full<float>(p.shape(), label, p.device()));
  };
  bool capped = false;
  while (loop.next()) {
    Generator g = loop.step_generator();
    const int64_t step = loop.step();
    std::vector<Tensor<float>> bs, ss;
    for (int64_t i = 0; i < a.train.batch_size; ++i) {
      const auto& face = train_faces[g.uniform_int(train_faces.size())];
      auto [b, s] = sem::blurred_pair(face, curriculum.sample(step, g), a.crop, a.noise, g, false);
      bs.push_back(b);
      ss.push_back(s);
    }
    // Under mpirun: this rank's rows of the global batch (the whole batch alone).
    const Tensor<float> blurred = loop.shard(crisp::stack(bs, 0)), sharp = loop.shard(crisp::stack(ss, 0));
    const Tensor<float> sharp1 = crisp::avg_pool2d(sharp, 2);
    Tensor<float> probs, masks, masks1;
    if (parser) {
      crisp::NoGradGuard no_grad;
      probs = (*parser)->probabilities(blurred);
      if (ls > 0) {
        // the masks are built on the CPU from the parser's classes (one small copy each way)
        masks = data::component_masks(crisp::argmax(probs, 1).to(crisp::Device::cpu())).to(blurred.device());
        masks1 = crisp::max_pool2d(masks, 2);
      }
    }
    const auto out = net(blurred, no.semantics() ? probs : Tensor<float>{});

    // Discriminator step on the detached output (it must not train the generator).
    double d_loss = 0;
    if (ladv > 0) {
      adam_d.zero_grad();
      Tensor<float> ld = crisp::mul(crisp::add(bce_to(disc(sharp), 1.f), bce_to(disc(out.scale2.detach()), 0.f)),
                                    crisp::scalar_tensor<float>(0.5f));
      ld.backward();
      adam_d.step();
      d_loss = ld.item();
    }
    adam.zero_grad();
    const Tensor<float> c1 = crisp::loss::l1(out.scale1, sharp1), c2 = crisp::loss::l1(out.scale2, sharp);
    Tensor<float> total = crisp::add(c1, c2);
    double s1 = 0, s2 = 0, pv = 0, gv = 0;
    if (ls > 0) {
      const Tensor<float> t1 = crisp::loss::masked_l1(out.scale1, sharp1, masks1, crisp::loss::Reduction::Mean);
      const Tensor<float> t2 = crisp::loss::masked_l1(out.scale2, sharp, masks, crisp::loss::Reduction::Mean);
      total = crisp::add(total, crisp::mul(crisp::add(t1, t2), crisp::scalar_tensor<float>(static_cast<float>(ls))));
      s1 = t1.item(), s2 = t2.item();
    }
    if (lp > 0) {
      auto features = [&](const Tensor<float>& x) {
        if (faceid) return faceid->features(x);
        auto f = (*vgg)->forward(x, std::vector<std::string>{"pool2", "pool5"});
        return std::vector<Tensor<float>>{f.at("pool2"), f.at("pool5")};
      };
      const Tensor<float> tp = crisp::loss::perceptual(out.scale2, sharp, features);
      total = crisp::add(total, crisp::mul(tp, crisp::scalar_tensor<float>(static_cast<float>(lp))));
      pv = tp.item();
    }
    if (ladv > 0) {
      const Tensor<float> tg = bce_to(disc(out.scale2), 1.f);
      total = crisp::add(total, crisp::mul(tg, crisp::scalar_tensor<float>(static_cast<float>(ladv))));
      gv = tg.item();
    }
    total.backward();
    adam.step();
    const double lr_now = sched ? sched->get_last_lr()[0] : a.train.lr;
    if (sched) sched->step();
    loop.log({c1.item(), c2.item(), s1, s2, pv, gv, d_loss, total.item(),
              static_cast<double>(curriculum.allowed_sizes(step).back()), lr_now});
    if (loop.sample_due()) loop.save_samples({blurred, crisp::clamp<float>(out.scale2.detach(), 0.f, 1.f), sharp});
    if (a.eval_every > 0 && hold.blurred.defined() && (step + 1) % a.eval_every == 0) {
      const Scores s = score(net, parser.get(), hold);
      if (eval_log) eval_log->write(step + 1, loop.elapsed_s(), {s.psnr_blurred, s.psnr_restored, s.ssim_blurred, s.ssim_restored});
      std::cout << "\n" << kProgram << ": step " << step + 1 << " held-out PSNR blurred " << s.psnr_blurred
                << " restored " << s.psnr_restored << "\n";
    }
    if (a.minutes > 0 && loop.elapsed_s() > a.minutes * 60 && step + 1 < a.train.iters) {
      capped = true;
      break;
    }
  }
  sem::Meta meta = sem::deblur_meta(no);
  if (!a.parsing.empty()) meta["parsing"] = sem::fs::absolute(a.parsing).string();
  // What the weights were trained with (evaluate and people read it; the net does not need it).
  meta["perceptual"] = perceptual_record;
  meta["lambda_p"] = std::to_string(lp);
  meta["lambda_s"] = std::to_string(ls);
  meta["lambda_adv"] = std::to_string(ladv);
  meta["discriminator_activation"] = a.disc_activation;
  meta["steps"] = std::to_string(loop.step());
  const std::string weights = loop.path("deblur.safetensors");
  if (ex::dist().is_main()) sem::save_weights(weights, net, meta);
  const int code = loop.finish();
  if (capped) std::cout << kProgram << ": --minutes " << a.minutes << " reached at step " << loop.step() << "\n";

  // ---- held-out scores ---------------------------------------------------------------------
  if (hold.blurred.defined()) {
    Tensor<float> restored, probs;
    const Scores s = score(net, parser.get(), hold, &restored, &probs);
    std::vector<Tensor<float>> cols{ex::dist().shard(hold.blurred), restored, ex::dist().shard(hold.sharp)};
    if (probs.defined()) cols.push_back(sem::label_colors_batch(crisp::argmax(probs, 1)));
    if (ex::dist().is_main()) ex::save_sample_grid(loop.path("holdout.png"), cols, 8);
    char buf[640];
    std::snprintf(buf, sizeof buf,
                  "held-out faces: %zu images never trained on x %lld fixed kernels (%lld-%lld px) = %lld crops of "
                  "%lldx%lld, after %lld steps\n\n"
                  "| | PSNR (dB) | SSIM |\n| --- | ---: | ---: |\n| blurred input | %.2f | %.4f |\n"
                  "| restored | %.2f | %.4f |\n| gain | %+.2f | %+.4f |\n",
                  held_faces.size(), static_cast<long long>(a.eval_kernels), static_cast<long long>(a.kernel_min),
                  static_cast<long long>(a.kernel_max), static_cast<long long>(hold.blurred.size(0)),
                  static_cast<long long>(a.crop), static_cast<long long>(a.crop), static_cast<long long>(loop.step()),
                  s.psnr_blurred, s.ssim_blurred, s.psnr_restored, s.ssim_restored, s.psnr_restored - s.psnr_blurred,
                  s.ssim_restored - s.ssim_blurred);
    std::cout << "\n" << buf << "wrote " << loop.path("holdout.png") << " (blurred | restored | sharp"
              << (probs.defined() ? " | parsing" : "") << ")\n";
    if (ex::dist().is_main()) std::ofstream(loop.path("holdout.md")) << buf;
  }
  std::cout << "weights: " << weights << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"train_semantic_deblur: train the semantic face deblurring network (Shen et al. 2018)"};
  Args a;
  a.train.out = "runs/deblur";
  a.train.iters = 240000;
  a.train.batch_size = 16;
  a.train.lr = 4e-5;
  a.train.checkpoint_every = 1000;
  a.train.sample_every = 500;
  ex::add_train_options(app, a.train);
  app.get_option("--data")->description("folder of sharp aligned face images");
  app.add_option("--parsing", a.parsing, "parsing weights from train_parsing (required unless --no-semantics)");
  app.add_option("--vgg", a.vgg, "torchvision VGG16 weights as safetensors, for the perceptual loss");
  app.add_option("--perceptual", a.perceptual,
                 "the perceptual loss's features: vgg (--vgg FILE; the default when given) or faceid (face-api.js's "
                 "face recognition net, --face-api DIR)");
  app.add_option("--face-api", a.face_api,
                 "folder of face-api.js's weight manifests (tools/fetch_face_api.sh: third_party/face-api/model), for "
                 "--perceptual faceid");
  app.add_option("--disc-activation", a.disc_activation,
                 "discriminator activation: leaky (DCGAN's LeakyReLU 0.2) or relu (the paper's text)")
      ->capture_default_str();
  app.add_option("--size", a.size, "faces are resized to size x size")->capture_default_str();
  app.add_option("--crop", a.crop, "training crop side (a multiple of 32; the paper's 128)")->capture_default_str();
  app.add_option("--holdout", a.holdout, "keep the last N images out of training and score them")
      ->capture_default_str();
  app.add_option("--channels", a.channels, "deblurring net width (64 in the paper)")->capture_default_str();
  app.add_option("--resblocks", a.resblocks, "ResBlocks per scale (6 in the paper, 5 with --official)")
      ->capture_default_str();
  app.add_flag("--official", a.official, "the official code's ResBlocks (ReLU after the addition, 5 of them)");
  app.add_flag("--residual", a.residual,
               "not in the paper: each scale adds its output to the blurred input (learns the correction; "
               "far faster to train)");
  app.add_option("--ndf", a.ndf, "discriminator width (64 as DCGAN)")->capture_default_str();
  app.add_flag("--no-semantics", a.no_semantics, "ablation: no parsing probabilities as input");
  app.add_flag("--no-structural", a.no_structural, "ablation: no structural loss");
  app.add_flag("--no-perceptual", a.no_perceptual, "ablation: no perceptual loss");
  app.add_flag("--no-adversarial", a.no_adversarial, "ablation: no adversarial loss");
  app.add_flag("--direct", a.direct, "ablation: every kernel size from the start (no curriculum)");
  app.add_option("--lambda-s", a.lambda_s, "structural loss weight")->capture_default_str();
  app.add_option("--lambda-p", a.lambda_p, "perceptual loss weight")->capture_default_str();
  app.add_option("--lambda-adv", a.lambda_adv, "adversarial loss weight")->capture_default_str();
  app.add_flag("--cosine", a.cosine, "anneal the learning rate to --lr-min over --iters (cosine)");
  app.add_option("--lr-min", a.lr_min, "final learning rate of --cosine")->capture_default_str();
  app.add_option("--lr-d", a.lr_d, "discriminator learning rate (0: --lr)")->capture_default_str();
  app.add_option("--kernel-min", a.kernel_min, "smallest blur kernel (odd, px)")->capture_default_str();
  app.add_option("--kernel-max", a.kernel_max, "largest blur kernel (odd, px)")->capture_default_str();
  app.add_option("--kernels-per-size", a.kernels_per_size, "training kernels of each size")->capture_default_str();
  app.add_option("--stage-iters", a.stage_iters, "curriculum: steps before the next kernel size joins (K)")
      ->capture_default_str();
  app.add_option("--noise", a.noise, "Gaussian noise sigma on [0, 1] images")->capture_default_str();
  app.add_option("--eval-every", a.eval_every, "steps between held-out scores in OUT/eval.csv (0: end only)")
      ->capture_default_str();
  app.add_option("--eval-kernels", a.eval_kernels, "fixed kernels per held-out face")->capture_default_str();
  app.add_option("--minutes", a.minutes, "stop cleanly after this many minutes of training (0: no limit)")
      ->capture_default_str();
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a, app); });
}
