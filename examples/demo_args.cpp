// The demo's command line (see demo_args.hpp).
#include "demo_args.hpp"

#include "common/cli.hpp"

namespace crisp::examples::demo {

int parse_demo_args(int argc, char** argv, Args& a) {
  CLI::App app{"demo: train a small deblurring CNN on CPU in minutes, then score it on held-out crops"};
  a.train.out = "demo_out";
  a.train.iters = 2400;
  a.train.batch_size = 8;
  a.train.lr = 2e-3;
  a.train.checkpoint_every = 600;
  a.train.sample_every = 600;
  a.train.log_every = 50;
  add_train_options(app, a.train);
  app.get_option("--data")->description("folder of your own sharp images (default: scikit-image's photographs)");
  app.add_option("--crop", a.crop, "training crop side")->capture_default_str();
  app.add_option("--eval-crop", a.eval_crop, "held-out crop side")->capture_default_str();
  app.add_option("--eval-crops", a.eval_crops, "number of held-out crops")->capture_default_str();
  app.add_option("--channels", a.channels, "feature channels of the model (2x at half resolution)")->capture_default_str();
  app.add_option("--blocks", a.blocks, "ResBlocks in the model")->capture_default_str();
  app.add_option("--kernel-min", a.kernel_min, "smallest blur kernel (odd, px)")->capture_default_str();
  app.add_option("--kernel-max", a.kernel_max, "largest blur kernel (odd, px)")->capture_default_str();
  app.add_option("--kernels", a.kernels, "camera-shake kernels in the bank (sizes cycle min..max)")
      ->capture_default_str();
  app.add_flag("--unseen-kernels", a.unseen_kernels, "blur the held-out crops with kernels drawn apart from training's");
  app.add_option("--noise", a.noise, "Gaussian noise sigma on [0, 1] images")->capture_default_str();
  app.add_option("--warmup", a.warmup, "steps of linear learning-rate warmup before the cosine decay")
      ->capture_default_str();
  app.add_option("--max-seconds", a.max_seconds, "stop training after this long (0: no limit)")
      ->capture_default_str();
  CRISP_CLI_PARSE(app, argc, argv);
  return -1;
}

}  // namespace crisp::examples::demo
