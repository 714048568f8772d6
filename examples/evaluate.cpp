// evaluate: the papers' evaluations of a trained deblurring model, with the blurred input and the
// sharp faces as rows - PSNR / SSIM per blur-kernel size (the first paper's Table 3 / Figure 7;
// with --pairs a paired test set, the second paper's Table 1), face detection success rates
// (--detect: the second paper's Table 2, the first paper's Table 5 detection column), identity
// distance and top-1/3/5 recognition (--identity: the first paper's Figure 9 and Table 5) and
// the mean seconds per image at batch 1 (Table 4). Writes results.md and results.csv.
//
// usage: evaluate --weights runs/deblur/deblur.safetensors --data SHARP_DIR --out results
//        evaluate --weights runs/srn/srn.safetensors --data SHARP_DIR --kernel-dir ../shared/data/kernels/lai16
//        evaluate --weights G_B.safetensors --pairs PAIRS_DIR --detect haar,lbp,hog --identity --face-api
//        third_party/face-api/model evaluate --data SHARP_DIR --detect haar      (no --weights: the blurred and sharp
//        rows only)
//
// Test set: every image of --data (sharp; shorter side resized to --size and the centre square
// kept, 0: as is), blurred with every kernel of the kernel set - --kernel-sizes 13,17,21,25 x
// --kernels-per-size camera-shake kernels drawn from --seed, or the PNG kernels of --kernel-dir -
// with replicate borders plus Gaussian noise --noise (fixed seed); or --pairs DIR: DIR/blurred/
// and DIR/sharp/ images with matching names. When --data holds one folder per identity, the first
// image of each is the probe (blurred, restored, scored) and the others form the gallery of the
// top-k recognition. The model is any restoring model crisp trains, told apart by its metadata
// (restorer.hpp). Detection: a face counts as detected when a box overlaps its true location with
// IoU >= --iou; the true location is the face box of its parsing labels (--labels DIR: label maps
// with the image's stem, CelebAMask-HQ ids) or else the aligned-face box measured on CelebA-HQ
// (evaluation/test_set.hpp; docs/evaluation.md). Timing: every restoration runs alone (batch 1)
// after --warmup untimed runs; the mean over all of them is Table 4's number.
// Out: OUT/results.md (one table per evaluation), OUT/results.csv (table, method, column, metric,
// value, count), OUT/per_image.csv (PSNR / SSIM), OUT/per_detection.csv (boxes found and the best
// IoU of every detector on every image), OUT/examples.png (blurred | restored | sharp).
#include <crisp/crisp.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "common/cli.hpp"
#include "common/run_dir.hpp"
#include "evaluation/face_detectors.hpp"
#include "evaluation/face_scores.hpp"
#include "evaluation/test_set.hpp"
#include "face_identity.hpp"
#include "restorer.hpp"
#include "semantic_common.hpp"

namespace {

namespace ex = crisp::examples;
namespace ev = crisp::examples::evaluation;
namespace sem = crisp::examples::semantic;
namespace data = crisp::data;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "evaluate";

struct Args {
  std::string model = "auto", weights, parsing, data, pairs, out = "evaluation", kernel_sizes = "13,17,21,25",
              kernel_dir, name, device = "cpu", detect, cascade_dir, labels, face_api;
  int64_t size = 128, kernels_per_size = 1, warmup = 2, tiny_size = 224;
  double noise = 0.01, iou = 0.3;
  uint64_t seed = 0;
  bool identity = false;
};

// One blurred test image: which face, which kernel size (0: a --pairs image), its restoration.
struct Item {
  size_t face;
  int64_t kernel_size;
  Tensor<float> blurred, restored;
};

struct Acc {
  double psnr = 0, ssim = 0;
  int64_t n = 0;
  void add(double p, double s) { psnr += p, ssim += s, ++n; }
};

std::string column_name(int64_t ks) { return ks == 0 ? "pairs" : std::to_string(ks) + "x" + std::to_string(ks); }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// results.csv rows and the Markdown tables, built as the evaluations run.
struct Report {
  std::ostringstream csv, md;
  Report() { csv << "table,method,column,metric,value,count\n"; }
  void row(const std::string& table, const std::string& method, const std::string& column, const std::string& metric,
           double value, int64_t count) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    csv << table << ",\"" << method << "\"," << column << "," << metric << "," << buf << "," << count << "\n";
  }
};

// OUT/name for writing; a file that cannot be opened is an error, not a silently missing result.
std::ofstream open_out(const std::string& out, const std::string& name) {
  const std::string path = (std::filesystem::path(out) / name).string();
  std::ofstream f(path);
  CRISP_CHECK(f.good(), crisp::IoError, kProgram, "cannot write '", path, "'");
  return f;
}

void write_file(const std::string& out, const std::string& name, const std::string& text) {
  std::ofstream f = open_out(out, name);
  f << text;
  f.close();
  CRISP_CHECK(!f.fail(), crisp::IoError, kProgram, "writing '", (std::filesystem::path(out) / name).string(), "' failed");
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

int run(const Args& a) {
  CRISP_CHECK(
      a.data.empty() != a.pairs.empty(), crisp::ValueError, kProgram,
      "expected either --data SHARP_DIR (blurred here with a kernel set) or --pairs DIR (blurred/ + sharp/), got ",
      a.data.empty() ? "neither" : "both");
  CRISP_CHECK(a.size >= 0 && a.kernels_per_size >= 1 && a.noise >= 0 && a.warmup >= 0 && a.iou > 0 && a.iou <= 1,
              crisp::ValueError, kProgram,
              "expected --size >= 0, --kernels-per-size >= 1, --noise >= 0, --warmup >= 0 and --iou in (0, 1]");
  const crisp::Device device = ex::parse_device(a.device, kProgram);
  CRISP_CHECK(!a.out.empty(), crisp::ValueError, kProgram, "expected a non-empty --out folder");

  // Detectors first: a missing library or cascade fails before any work.
  std::vector<std::pair<std::string, ev::DetectFn>> detectors;
  std::vector<std::unique_ptr<ex::detect::FaceDetector>> owned;
  std::unique_ptr<ex::TinyFaceDetection> tiny;
  for (const auto& d : split_list(a.detect)) {
    if (d == "tiny") {
      CRISP_CHECK(a.tiny_size >= 32 && a.tiny_size % 32 == 0, crisp::ValueError, kProgram,
                  "expected --tiny-size a multiple of 32, got ", a.tiny_size);
      tiny = std::make_unique<ex::TinyFaceDetection>(a.face_api, device, kProgram, a.tiny_size);
      detectors.emplace_back(d, [&t = *tiny](const Tensor<float>& img) { return t(img); });
      continue;
    }
    try {
      owned.push_back(ex::detect::make_detector(d, a.cascade_dir));
    } catch (const std::exception& e) {
      throw crisp::ValueError(std::string(kProgram) + " " + e.what());
    }
    detectors.emplace_back(d, ev::wrap(*owned.back()));
  }
  CRISP_CHECK(a.detect.empty() || !detectors.empty(), crisp::ValueError, kProgram,
              "expected --detect with detector names (haar, lbp, hog, tiny), got '", a.detect, "'");
  std::unique_ptr<ex::FaceIdentity> identity;
  if (a.identity) identity = std::make_unique<ex::FaceIdentity>(a.face_api, device, kProgram);

  // The test set.
  std::vector<ev::Face> faces =
      a.pairs.empty() ? ev::load_sharp(a.data, a.size, kProgram) : ev::load_pairs(a.pairs, a.size, kProgram);
  if (!a.labels.empty()) {
    const size_t n = ev::apply_labels(faces, a.labels);
    CRISP_CHECK(n > 0, crisp::IoError, kProgram, "--labels '", a.labels,
                "' holds no label map named like an image of the test set");
    ev::RelativeBox mean{0, 0, 0, 0};
    for (const auto& f : faces)
      mean.x0 += f.truth.x0, mean.y0 += f.truth.y0, mean.x1 += f.truth.x1, mean.y1 += f.truth.y1;
    const double k = 1.0 / static_cast<double>(faces.size());
    std::printf(
        "%s: true face boxes of %zu of %zu faces from --labels; mean box (x0, y0, x1, y1) = (%.3f, %.3f, %.3f, %.3f)\n",
        kProgram, n, faces.size(), mean.x0 * k, mean.y0 * k, mean.x1 * k, mean.y1 * k);
  }
  const bool by_identity = !faces.empty() && !faces.front().identity.empty();
  data::KernelBank kernels;
  if (a.pairs.empty()) {
    if (!a.kernel_dir.empty()) {
      for (const auto& f : ex::require_images(a.kernel_dir, std::string(kProgram) + " --kernel-dir"))
        kernels.push_back(data::load_kernel_image(f));
    } else {
      const auto sizes = sem::parse_int_list(a.kernel_sizes, std::string(kProgram) + " --kernel-sizes");
      for (int64_t s : sizes)
        CRISP_CHECK(s >= 3 && s % 2 == 1, crisp::ValueError, kProgram, "expected odd --kernel-sizes >= 3, got ", s);
      kernels = sem::kernel_bank(sizes, a.kernels_per_size, data::sample_seed(a.seed, 7, 0));
    }
  }
  std::unique_ptr<ex::Restorer> restore;
  if (!a.weights.empty()) restore = std::make_unique<ex::Restorer>(a.model, a.weights, a.parsing, kProgram, device);
  const std::string method = !a.name.empty() ? a.name
                             : restore ? restore->kind() + " (" + sem::fs::path(a.weights).filename().string() + ")"
                                       : "";

  std::vector<Item> items;
  Generator noise(data::sample_seed(a.seed, 8, 0));
  data::DegradeOptions dopt;
  dopt.noise_sigma = a.noise;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (!faces[i].probe) continue;
    if (faces[i].blurred.defined()) {
      items.push_back({i, 0, faces[i].blurred, {}});
      continue;
    }
    for (const auto& k : kernels)
      items.push_back({i, k.size(0), data::degrade(faces[i].sharp, k, noise, dopt).contiguous(), {}});
  }
  size_t probes = 0;
  for (const auto& f : faces) probes += f.probe ? 1 : 0;
  std::cout << kProgram << ": " << probes << " test faces"
            << (by_identity ? " (one probe per identity, " + std::to_string(faces.size() - probes) + " gallery faces)"
                            : "")
            << ", " << items.size() << " blurred images"
            << (a.pairs.empty() ? ", noise " + fmt("%g", a.noise) : " from --pairs")
            << (restore ? ", model " + restore->description() + " on " + a.device : ", no model (--weights)") << "\n";

  // Restoration, timed image by image after the warm-up.
  double seconds = 0;
  if (restore) {
    for (int64_t w = 0; w < a.warmup && !items.empty(); ++w) (*restore)(crisp::unsqueeze(items[0].blurred, 0));
    for (size_t i = 0; i < items.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      items[i].restored = (*restore)(crisp::unsqueeze(items[i].blurred, 0)).select(0, 0).contiguous();
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if ((i + 1) % 16 == 0 || i + 1 == items.size())
        std::cout << "  restored " << (i + 1) << "/" << items.size() << "\n";
    }
  }

  sem::fs::create_directories(a.out);
  Report rep;
  const std::vector<std::string> rows =
      restore ? std::vector<std::string>{"blurred input", method} : std::vector<std::string>{"blurred input"};
  auto version = [&](const Item& it, size_t row) -> const Tensor<float>& {
    return row == 0 ? it.blurred : it.restored;
  };
  char head[512];
  std::snprintf(
      head, sizeof head, "%zu test faces%s, %zu blurred images (%s)%s\n\n", probes,
      a.size > 0 ? (" at " + std::to_string(a.size) + "x" + std::to_string(a.size)).c_str() : "", items.size(),
      a.pairs.empty() ? (std::to_string(kernels.size()) + " kernels, noise sigma " + fmt("%g", a.noise)).c_str()
                      : ("pairs of " + a.pairs).c_str(),
      restore ? (", model: " + restore->description()).c_str() : "");
  rep.md << "# evaluation\n\n" << head;

  // ---- PSNR / SSIM per kernel size (Table 3 / Fig. 7; --pairs: Table 1) ----
  {
    std::vector<std::map<int64_t, Acc>> by(rows.size());
    std::vector<Acc> all(rows.size());
    std::ofstream per = open_out(a.out, "per_image.csv");
    per << "image,kernel_size,psnr_blurred,ssim_blurred,psnr_restored,ssim_restored\n";
    for (const auto& it : items) {
      const Tensor<float>& s = faces[it.face].sharp;
      double v[4] = {0, 0, 0, 0};
      for (size_t r = 0; r < rows.size(); ++r) {
        v[2 * r] = crisp::metrics::psnr(version(it, r), s), v[2 * r + 1] = crisp::metrics::ssim(version(it, r), s);
        by[r][it.kernel_size].add(v[2 * r], v[2 * r + 1]);
        all[r].add(v[2 * r], v[2 * r + 1]);
      }
      char buf[160];
      std::snprintf(buf, sizeof buf, ",%lld,%.4f,%.5f,%s,%s\n", static_cast<long long>(it.kernel_size), v[0], v[1],
                    restore ? fmt("%.4f", v[2]).c_str() : "", restore ? fmt("%.5f", v[3]).c_str() : "");
      per << faces[it.face].name << buf;
    }
    rep.md << "## Restoration quality: PSNR (dB) / SSIM"
           << (a.pairs.empty() ? " per blur-kernel size" : " on the paired test set") << "\n\n| method |";
    std::string rule = "| --- |";
    for (const auto& [ks, acc] : by[0]) rep.md << " " << column_name(ks) << " |", rule += " ---: |";
    rep.md << " all |\n" << rule << " ---: |\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      rep.md << "| " << rows[r] << " |";
      for (const auto& [ks, acc] : by[r]) {
        rep.md << " " << fmt("%.2f", acc.psnr / acc.n) << " / " << fmt("%.4f", acc.ssim / acc.n) << " |";
        rep.row("quality", rows[r], column_name(ks), "psnr", acc.psnr / acc.n, acc.n);
        rep.row("quality", rows[r], column_name(ks), "ssim", acc.ssim / acc.n, acc.n);
      }
      rep.md << " " << fmt("%.2f", all[r].psnr / all[r].n) << " / " << fmt("%.4f", all[r].ssim / all[r].n) << " |\n";
      rep.row("quality", rows[r], "all", "psnr", all[r].psnr / all[r].n, all[r].n);
      rep.row("quality", rows[r], "all", "ssim", all[r].ssim / all[r].n, all[r].n);
    }
    rep.md << "| sharp |";  // the reference itself: the papers' tables give it a row
    for (size_t k = 0; k <= by[0].size(); ++k) rep.md << " inf / 1.0000 |";
    rep.md << "\n\nPSNR and SSIM against the sharp images (scikit-image's definitions).\n\n";
  }

  // ---- face detection (the second paper's Table 2; the first's Table 5 column) ----
  std::vector<std::string> det_rows{"sharp"};
  det_rows.insert(det_rows.end(), rows.begin(), rows.end());
  std::map<std::string, std::vector<ev::Rate>> det;  // detector -> rate per det_rows
  // hits of every detector (in order) on each sharp face and on each item's rows, for Table 5's
  // recognition "on the successfully detected faces" (the first detector's hits).
  std::vector<std::vector<bool>> sharp_hit(faces.size()), item_hit(items.size());
  if (!detectors.empty()) {
    std::cout << kProgram << ": face detection with";
    for (const auto& [name, fn] : detectors) std::cout << " " << name;
    std::cout << " (IoU >= " << a.iou << " with the true face box)\n";
    std::ofstream per_det = open_out(a.out, "per_detection.csv");
    per_det << "detector,image,kernel_size,images,faces_found,best_iou,detected\n";
    auto score = [&](const std::string& name, const ev::DetectFn& fn, const Tensor<float>& img, const ev::Face& f,
                     int64_t ks, const std::string& what) {
      const auto boxes = fn(img);
      double best = 0;
      const bool hit = ev::detected(boxes, ev::to_pixels(f.truth, img.size(1), img.size(2)), a.iou, &best);
      per_det << name << "," << f.name << "," << ks << ",\"" << what << "\"," << boxes.size() << ","
              << fmt("%.3f", best) << "," << (hit ? 1 : 0) << "\n";
      return hit;
    };
    for (const auto& [name, fn] : detectors) {
      auto& r = det[name];
      r.assign(det_rows.size(), {});
      for (size_t i = 0; i < faces.size(); ++i) {
        if (!faces[i].probe) continue;
        const bool hit = score(name, fn, faces[i].sharp, faces[i], 0, "sharp");
        r[0].add(hit);
        sharp_hit[i].push_back(hit);
      }
      for (size_t j = 0; j < items.size(); ++j) {
        for (size_t row = 0; row < rows.size(); ++row) {
          const bool hit =
              score(name, fn, version(items[j], row), faces[items[j].face], items[j].kernel_size, rows[row]);
          r[row + 1].add(hit);
          item_hit[j].push_back(hit);
        }
      }
    }
    rep.md << "## Face detection success rate\n\n| images |";
    std::string rule = "| --- |";
    for (const auto& [name, fn] : detectors) rep.md << " " << name << " |", rule += " ---: |";
    rep.md << "\n" << rule << "\n";
    for (size_t row = 0; row < det_rows.size(); ++row) {
      rep.md << "| " << det_rows[row] << " |";
      for (const auto& [name, fn] : detectors) {
        const ev::Rate& x = det[name][row];
        rep.md << " " << fmt("%.3f", x.value()) << " |";
        rep.row("detection", det_rows[row], name, "success_rate", x.value(), x.n);
      }
      rep.md << "\n";
    }
    rep.md << "\nA face counts as detected when one box overlaps its true location with IoU >= " << a.iou << " ("
           << (a.labels.empty() ? "the aligned-face box" : "the face box of its parsing labels") << ").\n\n";
  }

  // ---- identity (Figure 9 distance; Table 5 top-1/3/5) ----
  if (identity) {
    std::cout << kProgram << ": identity descriptors (" << identity->description() << ")\n";
    std::vector<std::vector<float>> sharp_desc(faces.size());
    std::vector<std::pair<std::string, std::vector<float>>> gallery;
    for (size_t i = 0; i < faces.size(); ++i) {
      sharp_desc[i] = identity->describe(faces[i].sharp, faces[i].truth);
      if (!faces[i].probe) gallery.emplace_back(faces[i].identity, sharp_desc[i]);
    }
    std::vector<double> dist(rows.size(), 0);
    std::vector<ev::TopK> topk(det_rows.size());
    const bool gated = !detectors.empty();
    for (size_t i = 0; i < faces.size(); ++i)
      if (faces[i].probe && by_identity && (!gated || sharp_hit[i][0]))
        topk[0].add(sharp_desc[i], faces[i].identity, gallery);
    for (size_t j = 0; j < items.size(); ++j)
      for (size_t row = 0; row < rows.size(); ++row) {
        const auto d = identity->describe(version(items[j], row), faces[items[j].face].truth);
        dist[row] += ev::l2(d, sharp_desc[items[j].face]);
        if (by_identity && (!gated || item_hit[j][row])) topk[row + 1].add(d, faces[items[j].face].identity, gallery);
      }
    rep.md << "## Identity\n\n| images | identity distance to sharp |"
           << (by_identity ? " top-1 | top-3 | top-5 |" : "") << "\n| --- | ---: |"
           << (by_identity ? " ---: | ---: | ---: |" : "") << "\n";
    for (size_t row = 0; row < det_rows.size(); ++row) {
      const double dv = row == 0 ? 0.0 : dist[row - 1] / static_cast<double>(items.size());
      rep.md << "| " << det_rows[row] << " | " << fmt("%.4f", dv) << " |";
      rep.row("identity", det_rows[row], "distance", "mean_l2", dv,
              row == 0 ? static_cast<int64_t>(probes) : static_cast<int64_t>(items.size()));
      if (by_identity) {
        for (auto [k, rate] :
             {std::pair{"top1", &topk[row].top1}, {"top3", &topk[row].top3}, {"top5", &topk[row].top5}}) {
          rep.md << " " << fmt("%.3f", rate->value()) << " |";
          rep.row("identity", det_rows[row], "recognition", k, rate->value(), rate->n);
        }
      }
      rep.md << "\n";
    }
    rep.md << "\nMean L2 distance between the descriptors (" << identity->description()
           << ") of each sharp face and its blurred / restored version"
           << (by_identity
                   ? "; top-k: one of the k nearest of the " + std::to_string(gallery.size()) +
                         " sharp gallery faces has the probe's identity" +
                         (gated ? ", counted over the faces " + detectors.front().first + " detected (as Table 5)" : "")
                   : "")
           << ".\n\n";
  }

  // ---- time per image (Table 4) ----
  if (restore && !items.empty()) {
    const double mean_s = seconds / static_cast<double>(items.size());
    rep.md
        << "## Execution time\n\n| method | device | image size | seconds per image |\n| --- | --- | --- | ---: |\n| "
        << method << " | " << a.device << " | " << items[0].blurred.size(1) << "x" << items[0].blurred.size(2) << " | "
        << fmt("%.4f", mean_s) << " |\n\nMean over " << items.size()
        << " images restored one at a time (batch 1) after " << a.warmup << " warm-up runs.\n";
    rep.row("time", method, a.device, "seconds_per_image", mean_s, static_cast<int64_t>(items.size()));
  }

  write_file(a.out, "results.md", rep.md.str());
  write_file(a.out, "results.csv", rep.csv.str());
  std::vector<Tensor<float>> eb, er, es;
  for (size_t i = 0; i < items.size() && eb.size() < 4; i += std::max<size_t>(1, kernels.size())) {
    eb.push_back(items[i].blurred), es.push_back(faces[items[i].face].sharp);
    er.push_back(restore ? items[i].restored : items[i].blurred);
  }
  if (!eb.empty() && eb[0].shape() == eb.back().shape())
    ex::save_sample_grid((sem::fs::path(a.out) / "examples.png").string(),
                         {crisp::stack(eb, 0), crisp::stack(er, 0), crisp::stack(es, 0)}, 4);
  std::cout << "\n"
            << rep.md.str() << "\nwrote " << (sem::fs::path(a.out) / "results.md").string()
            << ", results.csv, per_image.csv, examples.png\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evaluate: the papers' evaluations of a deblurring model - PSNR / SSIM, face detection, identity, time"};
  Args a;
  app.add_option("--weights", a.weights, "the model's weights (.safetensors; none: only the blurred and sharp rows)");
  app.add_option("--model", a.model, "auto (from the weights' metadata), semantic, srn, cyclegan or demo")
      ->capture_default_str();
  app.add_option("--parsing", a.parsing,
                 "parsing weights for the semantic model (default: the ones it was trained with)");
  app.add_option("--data", a.data, "folder of sharp test faces (or one folder per identity: top-k recognition)");
  app.add_option("--pairs", a.pairs, "paired test set instead: DIR/blurred/ and DIR/sharp/ with matching names");
  app.add_option("--out", a.out, "folder for results.md / results.csv")->capture_default_str();
  app.add_option("--size", a.size, "resize test images (shorter side, centre square) to size x size (0: keep)")
      ->capture_default_str();
  app.add_option("--kernel-sizes", a.kernel_sizes, "camera-shake kernel sizes (odd, comma-separated)")
      ->capture_default_str();
  app.add_option("--kernels-per-size", a.kernels_per_size, "kernels of each size")->capture_default_str();
  app.add_option("--kernel-dir", a.kernel_dir, "use the PNG kernels of this folder instead (e.g. kernels/lai16)");
  app.add_option("--noise", a.noise, "Gaussian noise sigma added after the blur")->capture_default_str();
  app.add_option("--seed", a.seed, "seed of the kernels and the noise")->capture_default_str();
  app.add_option("--name", a.name, "the model's row name in the tables");
  app.add_option("--device", a.device, "cpu or cuda[:N]: where the model (and the face networks) run")
      ->capture_default_str();
  app.add_option("--warmup", a.warmup, "untimed restorations before the timed ones")->capture_default_str();
  app.add_option("--detect", a.detect,
                 "face detectors, comma-separated: haar, lbp (OpenCV), hog (dlib), tiny (face-api.js)");
  app.add_option("--tiny-size", a.tiny_size,
                 "input size of --detect tiny (a multiple of 32; face-api.js's default 416 misses faces that fill "
                 "the image)")
      ->capture_default_str();
  app.add_option("--cascade-dir", a.cascade_dir,
                 "folder with OpenCV's haarcascades/ and lbpcascades/ (default: opencv-data's)");
  app.add_option("--labels", a.labels,
                 "parsing label maps (CelebAMask-HQ ids, <stem>.png) giving each face's true box");
  app.add_option("--iou", a.iou, "IoU with the true face box for a detection to count")->capture_default_str();
  app.add_flag("--identity", a.identity,
               "identity distance and top-1/3/5 recognition with face-api.js's face recognition net");
  app.add_option("--face-api", a.face_api,
                 "folder of face-api.js's weight manifests (tools/fetch_face_api.sh: third_party/face-api/model), for "
                 "--identity and --detect tiny");
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a); });
}
