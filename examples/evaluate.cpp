// evaluate: PSNR / SSIM of a trained deblurring model on a test set, per blur-kernel size and
// overall, with a row for the blurred input itself - the layout of the semantic face deblurring
// paper's Table 3 and Figure 7. Writes CSV and Markdown.
//
// usage: evaluate --model semantic --weights runs/deblur/deblur.safetensors --data SHARP_DIR --out results
//        evaluate --model srn --weights runs/srn/srn.safetensors --data SHARP_DIR --kernel-dir ../shared/data/kernels/lai16
//
// Test set: every image of --data (sharp), resized to --size x --size (0: kept as is), blurred with
// every kernel of the kernel set - --kernel-sizes 13,17,21,25 x --kernels-per-size camera-shake
// kernels drawn from --seed (the same seed, the same kernels), or the PNG kernels of --kernel-dir
// (each normalised to sum 1) - with replicate borders, plus Gaussian noise --noise (fixed seed).
// Scores are scikit-image's PSNR and SSIM (crisp::metrics), averaged per kernel size and overall.
// Out: OUT/results.csv (method, kernel size, PSNR, SSIM, count), OUT/results.md (rows = blurred
// input and the model, columns = kernel sizes), OUT/per_image.csv, OUT/examples.png (the first
// images: blurred | restored | sharp).
#include <crisp/crisp.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "common/cli.hpp"
#include "common/run_dir.hpp"
#include "semantic_common.hpp"

namespace {

namespace ex = crisp::examples;
namespace sem = crisp::examples::semantic;
namespace data = crisp::data;
using crisp::Generator;
using crisp::Tensor;

constexpr const char* kProgram = "evaluate";

struct Args {
  std::string model = "semantic", weights, parsing, data, out = "evaluation", kernel_sizes = "13,17,21,25", kernel_dir;
  std::string name;
  int64_t size = 128, kernels_per_size = 1;
  double noise = 0.01;
  uint64_t seed = 0;
};

struct Acc {
  double psnr = 0, ssim = 0;
  int64_t n = 0;
  void add(double p, double s) { psnr += p, ssim += s, ++n; }
};

int run(const Args& a) {
  CRISP_CHECK(!a.weights.empty(), crisp::ValueError, kProgram, "expected --weights FILE.safetensors");
  CRISP_CHECK(a.size >= 0 && a.kernels_per_size >= 1 && a.noise >= 0, crisp::ValueError, kProgram,
              "expected --size >= 0, --kernels-per-size >= 1 and --noise >= 0");
  const auto files = ex::require_images(a.data, std::string(kProgram) + " --data");
  data::KernelBank kernels;
  if (!a.kernel_dir.empty()) {
    for (const auto& f : ex::require_images(a.kernel_dir, std::string(kProgram) + " --kernel-dir"))
      kernels.push_back(data::load_kernel_image(f));
  } else {
    const auto sizes = sem::parse_int_list(a.kernel_sizes, std::string(kProgram) + " --kernel-sizes");
    for (int64_t s : sizes)
      CRISP_CHECK(s >= 3 && s % 2 == 1, crisp::ValueError, kProgram, "expected odd --kernel-sizes >= 3, got ", s);
    kernels = sem::kernel_bank(sizes, a.kernels_per_size, data::sample_seed(a.seed, 7, 0));
  }
  sem::Restorer restore(a.model, a.weights, a.parsing, kProgram);
  const std::string method = a.name.empty() ? a.model + " (" + sem::fs::path(a.weights).filename().string() + ")" : a.name;
  std::cout << kProgram << ": " << files.size() << " images x " << kernels.size() << " kernels, noise " << a.noise
            << ", model " << method << "\n";

  std::map<int64_t, Acc> blurred_acc, restored_acc;  // by kernel size (rows x cols of the table)
  Acc blurred_all, restored_all;
  sem::fs::create_directories(a.out);
  std::ofstream per(sem::fs::path(a.out) / "per_image.csv");
  per << "image,kernel,kernel_size,psnr_blurred,ssim_blurred,psnr_restored,ssim_restored\n";
  std::vector<Tensor<float>> ex_b, ex_r, ex_s;
  Generator noise(data::sample_seed(a.seed, 8, 0));
  data::DegradeOptions d;
  d.noise_sigma = a.noise;
  for (size_t i = 0; i < files.size(); ++i) {
    Tensor<float> sharp = data::load_image(files[i], data::ImageMode::RGB);
    if (a.size > 0) sharp = data::resize(sharp, {a.size, a.size}, data::Interpolation::Area);
    sharp = sharp.contiguous();
    std::vector<Tensor<float>> bs;
    for (const auto& k : kernels) bs.push_back(data::degrade(sharp, k, noise, d));
    const Tensor<float> blurred = crisp::stack(bs, 0);
    const Tensor<float> restored = restore(blurred);
    for (size_t k = 0; k < kernels.size(); ++k) {
      const Tensor<float> b = blurred.select(0, static_cast<int64_t>(k)), r = restored.select(0, static_cast<int64_t>(k));
      const double pb = crisp::metrics::psnr(b, sharp), sb = crisp::metrics::ssim(b, sharp);
      const double pr = crisp::metrics::psnr(r, sharp), sr = crisp::metrics::ssim(r, sharp);
      const int64_t ks = kernels[k].size(0);
      blurred_acc[ks].add(pb, sb), restored_acc[ks].add(pr, sr);
      blurred_all.add(pb, sb), restored_all.add(pr, sr);
      char buf[256];
      std::snprintf(buf, sizeof buf, ",%zu,%lld,%.4f,%.5f,%.4f,%.5f\n", k, static_cast<long long>(ks), pb, sb, pr, sr);
      per << sem::fs::path(files[i]).filename().string() << buf;
    }
    if (ex_b.size() < 4) ex_b.push_back(blurred.select(0, 0)), ex_r.push_back(restored.select(0, 0)), ex_s.push_back(sharp);
    std::cout << "  " << (i + 1) << "/" << files.size() << " " << files[i] << "\n";
  }

  // results.csv (long form) and results.md (the paper's layout).
  std::ofstream csv(sem::fs::path(a.out) / "results.csv");
  csv << "method,kernel_size,psnr,ssim,count\n";
  auto csv_rows = [&](const std::string& m, const std::map<int64_t, Acc>& by, const Acc& all) {
    char buf[128];
    for (const auto& [ks, acc] : by) {
      std::snprintf(buf, sizeof buf, ",%lld,%.4f,%.5f,%lld\n", static_cast<long long>(ks), acc.psnr / acc.n,
                    acc.ssim / acc.n, static_cast<long long>(acc.n));
      csv << "\"" << m << "\"" << buf;
    }
    std::snprintf(buf, sizeof buf, ",all,%.4f,%.5f,%lld\n", all.psnr / all.n, all.ssim / all.n,
                  static_cast<long long>(all.n));
    csv << "\"" << m << "\"" << buf;
  };
  csv_rows("blurred input", blurred_acc, blurred_all);
  csv_rows(method, restored_acc, restored_all);

  std::string md = "| method |";
  std::string rule = "| --- |";
  for (const auto& [ks, acc] : blurred_acc) {
    md += " " + std::to_string(ks) + "x" + std::to_string(ks) + " PSNR / SSIM |";
    rule += " ---: |";
  }
  md += " overall PSNR / SSIM |\n" + rule + " ---: |\n";
  auto md_row = [&](const std::string& m, const std::map<int64_t, Acc>& by, const Acc& all) {
    char buf[64];
    md += "| " + m + " |";
    for (const auto& [ks, acc] : by) {
      std::snprintf(buf, sizeof buf, " %.2f / %.4f |", acc.psnr / acc.n, acc.ssim / acc.n);
      md += buf;
    }
    std::snprintf(buf, sizeof buf, " %.2f / %.4f |\n", all.psnr / all.n, all.ssim / all.n);
    md += buf;
  };
  md_row("blurred input", blurred_acc, blurred_all);
  md_row(method, restored_acc, restored_all);
  char head[256];
  std::snprintf(head, sizeof head, "%zu images%s, %zu kernels, noise sigma %g; PSNR in dB (scikit-image definitions)\n\n",
                files.size(), a.size > 0 ? (" at " + std::to_string(a.size) + "x" + std::to_string(a.size)).c_str() : "",
                kernels.size(), a.noise);
  std::ofstream(sem::fs::path(a.out) / "results.md") << head << md;
  ex::save_sample_grid((sem::fs::path(a.out) / "examples.png").string(),
                       {crisp::stack(ex_b, 0), crisp::stack(ex_r, 0), crisp::stack(ex_s, 0)}, 4);
  std::cout << "\n" << head << md << "\nwrote " << (sem::fs::path(a.out) / "results.md").string() << ", results.csv, "
            << "per_image.csv, examples.png\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"evaluate: PSNR / SSIM of a deblurring model per kernel size, against the blurred input"};
  Args a;
  app.add_option("--model", a.model, "semantic (train_semantic_deblur) or srn (train_srn)")->capture_default_str();
  app.add_option("--weights", a.weights, "the model's weights (.safetensors)")->required();
  app.add_option("--parsing", a.parsing, "parsing weights for the semantic model (default: the ones it was trained with)");
  app.add_option("--data", a.data, "folder of sharp test images")->required();
  app.add_option("--out", a.out, "folder for results.csv / results.md")->capture_default_str();
  app.add_option("--size", a.size, "resize test images to size x size (0: keep)")->capture_default_str();
  app.add_option("--kernel-sizes", a.kernel_sizes, "camera-shake kernel sizes (odd, comma-separated)")
      ->capture_default_str();
  app.add_option("--kernels-per-size", a.kernels_per_size, "kernels of each size")->capture_default_str();
  app.add_option("--kernel-dir", a.kernel_dir, "use the PNG kernels of this folder instead (e.g. kernels/lai16)");
  app.add_option("--noise", a.noise, "Gaussian noise sigma added after the blur")->capture_default_str();
  app.add_option("--seed", a.seed, "seed of the kernels and the noise")->capture_default_str();
  app.add_option("--name", a.name, "the model's row name in the tables");
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a); });
}
