// train_parsing: trains the semantic face deblurring paper's parsing network (models::FaceParsingNet)
// on face images with label maps, and reports per-class F-scores on a validation split; with
// --finetune-blurred it trains on blurred inputs (the paper's Table 1 "fine-tuned" parser).
//
// usage: train_parsing --data ../shared/data/parsing --out runs/parsing
//        train_parsing --data DIR --finetune-blurred --init runs/parsing/parsing.safetensors --out runs/parsing_ft
//
// Data: DIR/images/<stem>.jpg|png + DIR/labels/<stem>.png, CelebAMask-HQ ids (default, mapped to
// Helen's 11 classes by crisp::data) or Helen ids (--format helen). Images and labels are resized
// to --size, then training takes random --crop windows, mirrored with probability 1/2 (left/right
// classes swapped) and warped by a random affine transform (the paper's augmentation: rotation
// +-15 degrees, scale 0.9-1.1, shift 5% by default; --no-affine turns it off); validation takes
// the central window. The last --val images are held out. --evaluate-only W scores the weights W
// on that split (the F-score table) without training.
// Loss: cross entropy, optionally class-balanced (--balance p: class c weighs freq_c^-p, mean 1 -
// a small data set hardly ever shows the eyes, and the deblurring net's structural masks need them).
// Outputs in --out: parsing.safetensors (state_dict + shape metadata, what train_semantic_deblur
// --parsing and deblur --parsing read), log.csv, eval.csv (validation F-scores during training),
// fscores.csv / fscores.md (the final per-class table with the mean over classes), samples/
// (image | predicted | labels).
// The paper trains with lr 5e-6 on Helen's 2,000 faces; this program's default (Adam 1e-3) is for
// minutes of training on a few faces.
#include <crisp/crisp.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <tuple>

#include "common/cli.hpp"
#include "common/train_loop.hpp"
#include "semantic_common.hpp"

namespace {

namespace ex = crisp::examples;
namespace sem = crisp::examples::semantic;
namespace data = crisp::data;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "train_parsing";

struct Args {
  ex::TrainOptions train;
  std::string format = "celebamask", init, make_demo_data;
  int64_t size = 160, crop = 128, val = 2, base_channels = 16, eval_every = 0;
  double balance = 0.5, noise = 0.01, minutes = 0;
  bool finetune_blurred = false, no_affine = false;
  int64_t kernel_min = 13, kernel_max = 27;
  double affine_degrees = 15, affine_translate = 0.05, affine_scale_min = 0.9, affine_scale_max = 1.1;
  std::string evaluate_only;
};

// The rows of the F-score table: Helen's classes and the paper's groups.
struct Row {
  std::string name;
  std::vector<int64_t> classes;
};
std::vector<Row> table_rows() {
  std::vector<Row> r;
  const auto& names = data::helen_class_names();
  for (int64_t c = 0; c < 11; ++c) r.push_back({names[static_cast<size_t>(c)], {c}});
  r.push_back({"eyebrows (2+3)", {2, 3}});
  r.push_back({"eyes (4+5)", {4, 5}});
  r.push_back({"mouth (7+8+9)", {7, 8, 9}});
  r.push_back({"overall (2..9)", {2, 3, 4, 5, 6, 7, 8, 9}});
  return r;
}

struct Sample {
  Tensor<float> image;
  Tensor<int64_t> labels;
};

// A [N, C, H, W] batch through the parser in eval mode (on the parser's device): predicted classes
// [N, H, W], on the CPU.
Tensor<int64_t> predict(crisp::models::FaceParsingNet& net, const Tensor<float>& images) {
  crisp::NoGradGuard no_grad;
  net->eval();
  std::vector<Tensor<int64_t>> out;
  for (int64_t i = 0; i < images.size(0); i += 4)
    out.push_back(crisp::argmax(net(images.slice(0, i, std::min(images.size(0), i + 4)).contiguous().to(net->device())), 1)
                      .to(crisp::Device::cpu()));
  net->train();
  return crisp::cat(out, 0);
}

// The per-class F-score table of `net` on a validation batch: OUT/fscores.csv, OUT/fscores.md (a
// row per Helen class, the paper's groups, and the mean over the classes - each of precision,
// recall, F and IoU averaged over the classes that occur in the labels or the predictions) and
// OUT/validation.png (image | predicted | labels); printed too.
void write_fscores(crisp::models::FaceParsingNet& net, const Tensor<float>& images, const Tensor<int64_t>& labels,
                   const std::string& out, bool blurred) {
  crisp::metrics::ConfusionMatrix cm(11);
  const Tensor<int64_t> pred = predict(net, images);
  cm.update(pred, labels);
  sem::fs::create_directories(out);
  std::ofstream csv(sem::fs::path(out) / "fscores.csv"), md(sem::fs::path(out) / "fscores.md");
  csv << "class,precision,recall,f_score,iou\n";
  md << "| class | precision | recall | F-score | IoU |\n| --- | ---: | ---: | ---: | ---: |\n";
  std::printf("\nvalidation (%lld faces, %lldx%lld%s):\n  %-22s %9s %9s %9s %9s\n", static_cast<long long>(images.size(0)),
              static_cast<long long>(images.size(2)), static_cast<long long>(images.size(3)), blurred ? ", blurred" : "",
              "class", "precision", "recall", "F", "IoU");
  auto row = [&](const std::string& name, double p, double rc, double f, double iou) {
    std::printf("  %-22s %9.4f %9.4f %9.4f %9.4f\n", name.c_str(), p, rc, f, iou);
    char buf[256];
    std::snprintf(buf, sizeof buf, "%.4f,%.4f,%.4f,%.4f", p, rc, f, iou);
    csv << name << "," << buf << "\n";
    std::snprintf(buf, sizeof buf, "| %s | %.4f | %.4f | %.4f | %.4f |", name.c_str(), p, rc, f, iou);
    md << buf << "\n";
  };
  double mp = 0, mr = 0, mf = 0, mi = 0;
  int64_t present = 0;
  for (const auto& r : table_rows()) {
    const double p = cm.precision(r.classes), rc = cm.recall(r.classes), f = cm.f_score(r.classes), iou = cm.iou(r.classes);
    row(r.name, p, rc, f, iou);
    if (r.classes.size() == 1 && !std::isnan(iou)) {  // a class that occurs (in labels or predictions)
      mp += std::isnan(p) ? 0 : p, mr += std::isnan(rc) ? 0 : rc, mf += std::isnan(f) ? 0 : f, mi += iou;
      ++present;
    }
  }
  const double k = present > 0 ? 1.0 / static_cast<double>(present) : std::nan("");
  row("mean over " + std::to_string(present) + " classes", mp * k, mr * k, mf * k, mi * k);
  std::printf("  mean IoU %.4f, pixel accuracy %.4f\n", cm.mean_iou(), cm.pixel_accuracy());
  md << "\nmean IoU " << cm.mean_iou() << ", pixel accuracy " << cm.pixel_accuracy()
     << "; the mean row averages the classes that occur (a class never labelled nor predicted has no score; one "
        "labelled but never predicted counts 0)\n";
  ex::save_sample_grid((sem::fs::path(out) / "validation.png").string(),
                       {images, sem::label_colors_batch(pred), sem::label_colors_batch(labels)}, 4);
  std::cout << "wrote " << (sem::fs::path(out) / "fscores.md").string() << ", "
            << (sem::fs::path(out) / "validation.png").string() << "\n";
}

// --make-demo-data DIR: N cartoon faces with Helen label maps (DIR/images, DIR/labels), for the
// smoke tests and for trying the pipeline without a data set: ellipses for hair, skin, eyes,
// nose and lips on a textured background, each face jittered and coloured at random.
void make_demo_data(const std::string& dir, int64_t n, int64_t size, uint64_t seed) {
  Generator g(seed);
  sem::fs::create_directories(sem::fs::path(dir) / "images");
  sem::fs::create_directories(sem::fs::path(dir) / "labels");
  for (int64_t k = 0; k < n; ++k) {
    Tensor<float> img = Tensor<float>::empty({3, size, size});
    Tensor<int64_t> lab = crisp::zeros<int64_t>({size, size});
    const double S = static_cast<double>(size);
    auto u = [&](double lo, double hi) { return lo + (hi - lo) * g.uniform(); };
    const double cx = S * u(0.45, 0.55), cy = S * u(0.5, 0.58), fw = S * u(0.28, 0.34), fh = S * u(0.36, 0.42);
    float bg[3], skin[3], hair[3], lip[3];
    for (int c = 0; c < 3; ++c) bg[c] = static_cast<float>(u(0.1, 0.9)), hair[c] = static_cast<float>(u(0.05, 0.4));
    skin[0] = static_cast<float>(u(0.6, 0.95)), skin[1] = skin[0] * 0.8f, skin[2] = skin[0] * 0.65f;
    lip[0] = static_cast<float>(u(0.6, 0.9)), lip[1] = 0.2f, lip[2] = 0.3f;
    struct Shape2 {
      double x, y, rx, ry;
      int64_t cls;
    };
    const double ex = fw * 0.42, ey = cy - fh * 0.15;
    const std::vector<Shape2> shapes = {
        {cx, cy - fh * 0.35, fw * 1.15, fh * 0.85, 10},                                           // hair
        {cx, cy, fw, fh, 1},                                                                       // skin
        {cx + ex, ey - fh * 0.16, fw * 0.22, fh * 0.04, 2}, {cx - ex, ey - fh * 0.16, fw * 0.22, fh * 0.04, 3},
        {cx + ex, ey, fw * 0.16, fh * 0.07, 4},           {cx - ex, ey, fw * 0.16, fh * 0.07, 5},
        {cx, cy + fh * 0.1, fw * 0.1, fh * 0.2, 6},                                                // nose
        {cx, cy + fh * 0.45, fw * 0.34, fh * 0.09, 7},                                             // upper lip
        {cx, cy + fh * 0.58, fw * 0.32, fh * 0.08, 9},                                             // lower lip
        {cx, cy + fh * 0.52, fw * 0.24, fh * 0.04, 8}};                                            // inner mouth
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        int64_t cls = 0;
        for (const auto& e : shapes) {
          const double dx = (static_cast<double>(x) - e.x) / e.rx, dy = (static_cast<double>(y) - e.y) / e.ry;
          if (dx * dx + dy * dy <= 1 && !(e.cls == 10 && y > cy)) cls = e.cls;
        }
        lab.data()[y * size + x] = cls;
        const float stripes = 0.08f * static_cast<float>(((x / 3) + (y / 5)) % 2);  // texture to deblur
        for (int c = 0; c < 3; ++c) {
          float v = bg[c] + stripes;
          switch (cls) {
            case 1: v = skin[c]; break;
            case 10: v = hair[c] + stripes; break;
            case 2: case 3: v = hair[c] * 0.6f; break;
            case 4: case 5: v = c == 2 ? 0.5f : 0.1f; break;
            case 6: v = skin[c] * 0.85f; break;
            case 7: case 9: v = lip[c]; break;
            case 8: v = 0.95f; break;
            default: break;
          }
          img.data()[(c * size + y) * size + x] = std::clamp(v, 0.f, 1.f);
        }
      }
    char name[32];
    std::snprintf(name, sizeof name, "face_%03lld", static_cast<long long>(k));
    data::save_image(img, (sem::fs::path(dir) / "images" / (std::string(name) + ".png")).string());
    data::save_label_map(lab, (sem::fs::path(dir) / "labels" / (std::string(name) + ".png")).string());
  }
  std::cout << kProgram << ": wrote " << n << " cartoon faces of " << size << "x" << size << " with Helen labels to "
            << dir << "/images and " << dir << "/labels\n";
}

int run(Args& a, CLI::App& app) {
  if (!a.make_demo_data.empty()) {
    make_demo_data(a.make_demo_data, 8, 96, a.train.seed);
    return 0;
  }
  ex::check_train_options(a.train, kProgram);
  CRISP_CHECK(a.format == "celebamask" || a.format == "helen", crisp::ValueError, kProgram,
              "expected --format celebamask or helen, got '", a.format, "'");
  CRISP_CHECK(a.crop % 32 == 0 && a.crop >= 32 && a.size >= a.crop, crisp::ValueError, kProgram,
              "expected --crop a multiple of 32 (the net pools 5 times) and --size >= --crop, got --crop ", a.crop,
              " and --size ", a.size);
  CRISP_CHECK(a.kernel_min >= 3 && a.kernel_min % 2 == 1 && a.kernel_max >= a.kernel_min && a.kernel_max % 2 == 1,
              crisp::ValueError, kProgram, "expected odd kernel sizes 3 <= --kernel-min <= --kernel-max, got ",
              a.kernel_min, " and ", a.kernel_max);
  CRISP_CHECK(a.val >= 0 && a.base_channels >= 1 && a.balance >= 0, crisp::ValueError, kProgram,
              "expected --val >= 0, --base-channels >= 1, --balance >= 0");
  CRISP_CHECK(!a.train.data.empty(), crisp::ValueError, kProgram,
              "expected --data DIR holding images/ and labels/ (e.g. ../shared/data/parsing)");
  for (const char* sub : {"images", "labels"})
    ex::require_images((sem::fs::path(a.train.data) / sub).string(), std::string(kProgram) + " --data");

  data::FaceParsingOptions po;
  po.size = {a.size, a.size};
  const auto ds = a.format == "helen" ? data::FaceParsingDataset::helen(a.train.data, po)
                                      : data::FaceParsingDataset::celebamask(a.train.data, po);
  CRISP_CHECK(ds.size() > a.val, crisp::IoError, kProgram, "--data '", a.train.data, "' has ", ds.size(),
              " labelled images; expected more than --val ", a.val);
  std::vector<Sample> train, val;
  {
    Generator g(0);
    for (int64_t i = 0; i < ds.size(); ++i) {
      auto s = ds.get(i, g);
      (i >= ds.size() - a.val ? val : train).push_back({s.image.contiguous(), s.labels.contiguous()});
    }
  }
  std::cout << kProgram << ": " << train.size() << " training and " << val.size() << " validation faces from "
            << a.train.data << " at " << a.size << "x" << a.size << ", crops " << a.crop
            << (a.finetune_blurred ? ", blurred inputs (" + std::to_string(a.kernel_min) + "-" + std::to_string(a.kernel_max) +
                                    " px camera shake + noise)"
                              : std::string()) << "\n";

  // Class weights from the training labels' frequencies.
  Tensor<float> weight;
  if (a.balance > 0) {
    std::vector<double> freq(11, 1.0);  // +1: a class absent from the data keeps a finite weight
    for (const auto& s : train)
      for (int64_t i = 0; i < s.labels.numel(); ++i) freq[static_cast<size_t>(s.labels.data()[i])] += 1;
    std::vector<float> w(11);
    double m = 0;
    for (size_t c = 0; c < 11; ++c) m += (w[c] = static_cast<float>(std::pow(freq[c], -a.balance)));
    for (auto& x : w) x = static_cast<float>(x * 11 / m);
    weight = crisp::from_vector<float>(w, {11});
  }

  const auto sizes = sem::odd_sizes(a.kernel_min, a.kernel_max);
  const data::KernelBank train_kernels = sem::kernel_bank(sizes, 8, data::sample_seed(a.train.seed, 1, 0));
  const data::KernelBank val_kernels = sem::kernel_bank(sizes, 1, data::sample_seed(a.train.seed, 2, 0));

  // Validation batch: central crops, blurred with fixed kernels when fine-tuning.
  Tensor<float> val_images;
  Tensor<int64_t> val_labels;
  if (!val.empty()) {
    std::vector<Tensor<float>> vi;
    std::vector<Tensor<int64_t>> vl;
    Generator g(data::sample_seed(a.train.seed, 3, 0));
    for (size_t i = 0; i < val.size(); ++i) {
      const int64_t off = (a.size - a.crop) / 2;
      Tensor<float> img = val[i].image;
      if (a.finetune_blurred) {
        data::DegradeOptions d;
        d.noise_sigma = a.noise;
        img = data::degrade(img, val_kernels[i % val_kernels.size()], g, d);
      }
      vi.push_back(data::crop(img, off, off, a.crop, a.crop).contiguous());
      vl.push_back(data::crop(val[i].labels, off, off, a.crop, a.crop).contiguous());
    }
    val_images = data::stack(vi, kProgram);
    val_labels = data::stack(vl, kProgram);
  }
  if (!a.evaluate_only.empty()) {
    CRISP_CHECK(val_images.defined(), crisp::ValueError, kProgram, "--evaluate-only needs a validation split (--val N >= 1)");
    auto net = sem::load_parser(a.evaluate_only, kProgram);
    std::cout << kProgram << ": evaluating " << a.evaluate_only << " (no training)\n";
    write_fscores(net, val_images, val_labels, a.train.out, a.finetune_blurred);
    return 0;
  }
  auto evaluate = [&](crisp::models::FaceParsingNet& net) {
    crisp::metrics::ConfusionMatrix cm(11);
    if (val_images.defined()) cm.update(predict(net, val_images), val_labels);
    return cm;
  };

  // The paper's "data augmentation using affine transformations": rotation, scale and shift, the
  // same warp of image and labels (outside the source: black, background).
  data::RandomAffineOptions affine;
  affine.degrees = a.affine_degrees;
  affine.translate = {a.affine_translate, a.affine_translate};
  affine.scale = {a.affine_scale_min, a.affine_scale_max};
  CRISP_CHECK(a.affine_degrees >= 0 && a.affine_translate >= 0 && a.affine_translate <= 1 && a.affine_scale_min > 0 &&
                  a.affine_scale_min <= a.affine_scale_max,
              crisp::ValueError, kProgram,
              "expected --affine-degrees >= 0, --affine-translate in [0, 1] and 0 < --affine-scale-min <= "
              "--affine-scale-max");
  Generator init(a.train.seed);
  crisp::models::FaceParsingNetOptions mo;
  mo.base_channels(a.base_channels);
  crisp::models::FaceParsingNet net(mo, init);
  if (!a.init.empty()) {
    auto p = sem::load_parser(a.init, kProgram);
    net->load_state_dict(p->state_dict());
    std::cout << kProgram << ": initialised from " << a.init << "\n";
  }
  net->train();
  int64_t nparams = 0;
  for (const auto& p : net->parameters()) nparams += p.numel();
  std::cout << kProgram << ": FaceParsingNet(base_channels " << a.base_channels << "), " << nparams
            << " parameters\n";
  crisp::optim::Adam adam(net->parameters(), crisp::optim::AdamOptions(a.train.lr));

  ex::TrainLoop loop(kProgram, a.train, {"cross_entropy", "pixel_acc"});
  loop.track("parser", net, adam);  // on --device from here on
  if (weight.defined()) weight = weight.to(loop.device());
  ex::write_config(app, loop.path("config.ini"));
  loop.begin();
  std::unique_ptr<ex::CsvLog> eval_log;
  if (a.eval_every > 0 && val_images.defined() && ex::dist().is_main())  // under mpirun rank 0 writes
    eval_log = std::make_unique<ex::CsvLog>(loop.path("eval.csv"),
                                            std::vector<std::string>{"val_overall_f", "val_mean_iou", "val_pixel_acc"},
                                            loop.start_step() > 0 ? loop.start_step() : -1);
  bool capped = false;
  while (loop.next()) {
    Generator g = loop.step_generator();
    std::vector<Tensor<float>> xs;
    std::vector<Tensor<int64_t>> ys;
    for (int64_t i = 0; i < a.train.batch_size; ++i) {
      const Sample& s = train[g.uniform_int(train.size())];
      Tensor<float> img = s.image;
      Tensor<int64_t> lab = s.labels;
      if (g.uniform() < 0.5) img = data::hflip(img), lab = data::hflip_helen_labels(lab);
      if (!a.no_affine) std::tie(img, lab) = data::random_affine(img, lab, affine, g);  // the paper's augmentation
      if (a.finetune_blurred) {
        data::DegradeOptions d;
        d.noise_sigma = a.noise;
        img = data::degrade(img.contiguous(), train_kernels[g.uniform_int(train_kernels.size())], g, d);
      }
      auto [ci, cl] = data::random_crop(img, lab, {a.crop, a.crop}, g);
      xs.push_back(ci.contiguous());
      ys.push_back(cl.contiguous());
    }
    // Under mpirun: this rank's rows of the global batch (the whole batch alone).
    const Tensor<float> x = loop.shard(data::stack(xs, kProgram));
    const Tensor<int64_t> y = loop.shard(data::stack(ys, kProgram));
    adam.zero_grad();
    const Tensor<float> logits = net(x);
    Tensor<float> loss = crisp::loss::cross_entropy(logits, y, weight);
    loss.backward();
    adam.step();
    const Tensor<int64_t> pred = crisp::argmax(logits.detach(), 1).to(crisp::Device::cpu());
    const Tensor<int64_t> y_host = y.to(crisp::Device::cpu());
    int64_t right = 0;
    for (int64_t i = 0; i < y.numel(); ++i) right += pred.data()[i] == y_host.data()[i];
    loop.log({loss.item(), static_cast<double>(right) / static_cast<double>(y.numel())});
    if (loop.sample_due())
      loop.save_samples({x, sem::label_colors_batch(pred), sem::label_colors_batch(y_host)});
    if (a.eval_every > 0 && val_images.defined() && (loop.step() + 1) % a.eval_every == 0) {
      const auto cm = evaluate(net);  // every rank (identical weights, identical scores); rank 0 writes
      if (eval_log) eval_log->write(loop.step() + 1, loop.elapsed_s(),
                      {cm.f_score(table_rows().back().classes), cm.mean_iou(), cm.pixel_accuracy()});
    }
    if (a.minutes > 0 && loop.elapsed_s() > a.minutes * 60 && loop.step() + 1 < a.train.iters) {
      capped = true;
      break;
    }
  }
  const std::string weights = loop.path("parsing.safetensors");
  if (ex::dist().is_main()) sem::save_weights(weights, net, sem::parsing_meta(mo));
  const int code = loop.finish();
  if (capped) std::cout << kProgram << ": --minutes " << a.minutes << " reached at step " << loop.step() << "\n";

  // ---- the per-class F-score table on the validation split ---------------------------------
  if (val_images.defined() && ex::dist().is_main())  // under mpirun: rank 0 scores and writes
    write_fscores(net, val_images, val_labels, a.train.out, a.finetune_blurred);
  std::cout << "weights: " << weights << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"train_parsing: train the face parsing network (11 Helen classes) and report per-class F-scores"};
  Args a;
  a.train.out = "runs/parsing";
  a.train.iters = 2000;
  a.train.batch_size = 8;
  a.train.lr = 1e-3;
  a.train.checkpoint_every = 500;
  a.train.sample_every = 250;
  ex::add_train_options(app, a.train);
  app.get_option("--data")->description("folder with images/ and labels/ (same file stems)");
  app.add_option("--format", a.format, "label ids: celebamask (19, mapped to Helen's 11) or helen")
      ->capture_default_str();
  app.add_option("--size", a.size, "images and labels are resized to size x size")->capture_default_str();
  app.add_option("--crop", a.crop, "training crop side (a multiple of 32)")->capture_default_str();
  app.add_option("--val", a.val, "the last N images are the validation split")->capture_default_str();
  app.add_option("--base-channels", a.base_channels, "parser width (16 in the paper)")->capture_default_str();
  app.add_option("--balance", a.balance, "class weights freq^-p in the cross entropy (0: plain)")
      ->capture_default_str();
  app.add_flag("--finetune-blurred", a.finetune_blurred, "train and validate on blurred inputs (camera shake + noise)");
  app.add_option("--init", a.init, "start from these parsing weights (e.g. for --finetune-blurred)");
  app.add_option("--noise", a.noise, "noise sigma of the blurred inputs")->capture_default_str();
  app.add_option("--kernel-min", a.kernel_min, "smallest blur kernel of --finetune-blurred (odd, px)")->capture_default_str();
  app.add_option("--kernel-max", a.kernel_max, "largest blur kernel of --finetune-blurred (odd, px)")->capture_default_str();
  app.add_option("--eval-every", a.eval_every, "steps between validation F-scores in OUT/eval.csv (0: end only)")
      ->capture_default_str();
  app.add_option("--minutes", a.minutes, "stop cleanly after this many minutes of training (0: no limit)")
      ->capture_default_str();
  app.add_flag("--no-affine", a.no_affine, "no random affine augmentation (the paper's; on by default)");
  app.add_option("--affine-degrees", a.affine_degrees, "augmentation: rotation up to +-degrees")->capture_default_str();
  app.add_option("--affine-translate", a.affine_translate, "augmentation: shift up to this fraction of the size")
      ->capture_default_str();
  app.add_option("--affine-scale-min", a.affine_scale_min, "augmentation: smallest scale")->capture_default_str();
  app.add_option("--affine-scale-max", a.affine_scale_max, "augmentation: largest scale")->capture_default_str();
  app.add_option("--evaluate-only", a.evaluate_only,
                 "score these parsing weights on the validation split (--val) and write the F-score table; no training");
  app.add_option("--make-demo-data", a.make_demo_data,
                 "write 8 cartoon faces with Helen labels to DIR/images and DIR/labels, then exit");
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a, app); });
}
