// deblur: restores blurred images with any restoring model crisp's examples train - the semantic
// face deblurring net (train_semantic_deblur), SRN (train_srn), CycleGAN's blurred -> sharp
// generator (train_cyclegan's G_B) or the demo's DemoNet - one image or a whole folder, into OUTDIR.
//
// usage: deblur --weights runs/deblur/deblur.safetensors [--parsing P] INPUT OUTDIR
//        deblur --weights runs/srn/srn.safetensors INPUT OUTDIR
//        deblur --weights runs/cyclegan/G_B.safetensors --device cuda INPUT OUTDIR
//
// The model's kind is read from the weights' metadata (restorer.hpp); --model semantic | srn |
// cyclegan | demo names it for a file without metadata.
// INPUT is an image or a folder of images (jpg, png, ...); OUTDIR/<stem>.png is the restored image
// and, for the semantic model, OUTDIR/<stem>_parsing.png the parser's classes in colour (Helen's
// 11: background black, skin tan, hair brown, brows, eyes, nose, lips, mouth saturated).
// The models' shapes come from the weights' metadata; the semantic net's parser is --parsing or the
// one its training used (recorded in the metadata). --size S resizes every input to S x S first
// (the semantic models are trained on aligned faces of 128 x 128 - give them faces at that scale);
// otherwise images of any size are padded to what the model needs and cropped back.
#include <crisp/crisp.hpp>

#include <iostream>

#include "common/cli.hpp"
#include "restorer.hpp"
#include "semantic_common.hpp"

namespace {

namespace ex = crisp::examples;
namespace sem = crisp::examples::semantic;
namespace data = crisp::data;
using crisp::Tensor;

constexpr const char* kProgram = "deblur";

struct Args {
  std::string model = "auto", device = "cpu", weights, parsing, input, outdir;
  int64_t size = 0;
};

int run(const Args& a) {
  CRISP_CHECK(!a.weights.empty(), crisp::ValueError, kProgram, "expected --weights FILE.safetensors");
  CRISP_CHECK(a.size >= 0, crisp::ValueError, kProgram, "expected --size >= 0, got ", a.size);
  std::vector<std::string> files;
  if (sem::fs::is_directory(a.input)) {
    files = ex::require_images(a.input, std::string(kProgram) + " INPUT");
  } else {
    CRISP_CHECK(sem::fs::is_regular_file(a.input), crisp::IoError, kProgram, "INPUT '", a.input,
                "' is neither an image nor a folder");
    files = {a.input};
  }
  ex::Restorer restore(a.model, a.weights, a.parsing, kProgram, ex::parse_device(a.device, kProgram));
  sem::fs::create_directories(a.outdir);
  std::cout << kProgram << ": " << restore.description() << " from " << a.weights << (restore.has_parser() ? " with its parser" : "")
            << ", " << files.size() << " image(s) -> " << a.outdir << "\n";
  for (const auto& f : files) {
    Tensor<float> img = data::load_image(f, data::ImageMode::RGB);
    if (a.size > 0) img = data::resize(img, {a.size, a.size}, data::Interpolation::Area);
    Tensor<int64_t> labels;
    const Tensor<float> out = restore(crisp::unsqueeze(img.contiguous(), 0), &labels);
    const std::string stem = sem::fs::path(f).stem().string();
    const std::string path = (sem::fs::path(a.outdir) / (stem + ".png")).string();
    data::save_image(out.select(0, 0).contiguous(), path);
    std::cout << "  " << f << " -> " << path;
    if (labels.defined()) {
      const std::string pp = (sem::fs::path(a.outdir) / (stem + "_parsing.png")).string();
      data::save_image(sem::label_colors(labels.select(0, 0)), pp);
      std::cout << ", " << pp;
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deblur: restore blurred images with a trained semantic net, SRN, CycleGAN generator or demo net"};
  Args a;
  app.add_option("--model", a.model,
                 "auto (from the weights' metadata), semantic (train_semantic_deblur), srn (train_srn), cyclegan "
                 "(train_cyclegan's G_B) or demo")
      ->capture_default_str();
  app.add_option("--device", a.device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--weights", a.weights, "the model's weights (.safetensors)")->required();
  app.add_option("--parsing", a.parsing, "parsing weights for the semantic model (default: the ones it was trained with)");
  app.add_option("--size", a.size, "resize every input to size x size first (0: keep)")->capture_default_str();
  app.add_option("INPUT", a.input, "an image or a folder of images")->required();
  app.add_option("OUTDIR", a.outdir, "folder for the restored images")->required();
  CRISP_CLI_PARSE(app, argc, argv);
  return ex::run_main(kProgram, [&] { return run(a); });
}
