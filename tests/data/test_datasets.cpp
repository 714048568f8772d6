// Datasets over folders: synthetic images written to a scratch folder (sizes, shapes, ranges,
// determinism, pairing by stem, corrupt files) and, when present, the real faces and CelebAMask-HQ
// parsing labels of ../shared/data (the CelebAMask -> Helen mapping on real labels).
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "crisp/crisp.hpp"
#include "crisp/data/data.hpp"
#include "data_test_util.hpp"

using namespace crisp;
using namespace crisp::data;
namespace fs = std::filesystem;

namespace {

Tensor<float> random_image(int64_t C, int64_t H, int64_t W, uint64_t seed) {
  Generator g(seed);
  Tensor<float> t = Tensor<float>::empty(Shape{C, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(g.uniform());
  return t;
}

// A fresh folder under the scratch dir holding `names` as random H x W RGB images.
std::string image_folder(const std::string& dir, const std::vector<std::string>& names, int64_t H = 48, int64_t W = 40) {
  const std::string d = test::scratch(dir);
  fs::remove_all(d);
  fs::create_directories(d);
  uint64_t seed = 1;
  for (const auto& n : names) save_image(random_image(3, H, W, seed++), d + "/" + n);
  return d;
}

bool equal(const Tensor<float>& a, const Tensor<float>& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

void check_range(const Tensor<float>& t) {
  for (int64_t i = 0; i < t.numel(); ++i) REQUIRE((t.data()[i] >= 0.0f && t.data()[i] <= 1.0f));
}

// Captures std::cerr for its lifetime.
struct CerrCapture {
  std::ostringstream s;
  std::streambuf* old;
  CerrCapture() : old(std::cerr.rdbuf(s.rdbuf())) {}
  ~CerrCapture() { std::cerr.rdbuf(old); }
};

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

KernelBank small_bank() {
  Generator g(7);
  return make_kernel_bank({5, 7, 9}, 2, g);
}

}  // namespace

TEST_CASE("list_images: sorted, extension filter, missing and empty folders", "[data][datasets]") {
  const std::string d = image_folder("list", {"b.png", "a.JPG", "c.jpeg", "d.bmp"});
  test::write_bytes(d + "/notes.txt", {'h', 'i'});
  fs::create_directories(d + "/sub.png");  // a folder with an image-like name is not a file
  const auto files = list_images(d);
  REQUIRE(files.size() == 4);
  CHECK(file_name(files[0]) == "a.JPG");
  CHECK(file_name(files[3]) == "d.bmp");

  const std::string missing = test::scratch("no_such_folder");
  try {
    list_images(missing, "MyDataset");
    FAIL("expected an error");
  } catch (const crisp::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(missing) && Catch::Contains("MyDataset"));
  }
  const std::string empty = test::scratch("empty");
  fs::create_directories(empty);
  test::write_bytes(empty + "/readme.md", {'x'});
  CHECK_THROWS_WITH(list_images(empty), Catch::Contains(empty) && Catch::Contains("no images"));
  CHECK_THROWS_AS(BlurredFolderDataset(empty, small_bank()), crisp::Error);
}

TEST_CASE("BlurredFolderDataset: shapes, ranges, determinism, kernel sampler", "[data][datasets]") {
  const std::string d = image_folder("sharp", {"0.png", "1.png", "2.png", "3.png", "4.png"});
  BlurredFolderOptions o;
  o.crop = {32, 24};
  BlurredFolderDataset ds(d, small_bank(), o);
  REQUIRE(ds.size() == 5);
  Generator g1(11), g2(11), g3(12);
  const BlurSample a = ds.get(2, g1), b = ds.get(2, g2), c = ds.get(2, g3);
  CHECK(a.blurred.shape() == Shape{3, 32, 24});
  CHECK(a.sharp.shape() == Shape{3, 32, 24});
  CHECK(std::set<int64_t>{5, 7, 9}.count(a.kernel_size) == 1);
  CHECK(a.kernel.shape() == Shape{a.kernel_size, a.kernel_size});
  check_range(a.blurred);
  check_range(a.sharp);
  CHECK(equal(a.blurred, b.blurred));
  CHECK(equal(a.sharp, b.sharp));
  CHECK_FALSE(equal(a.blurred, c.blurred));
  CHECK_FALSE(equal(a.blurred, a.sharp));

  SECTION("a centred delta kernel without noise leaves the crop unchanged (valid blur keeps alignment)") {
    BlurredFolderOptions p = o;
    p.degrade.noise_sigma = 0;
    p.hflip = false;
    Tensor<float> delta = Tensor<float>::empty(Shape{7, 7});
    std::fill(delta.data(), delta.data() + 49, 0.0f);
    delta.data()[24] = 1.0f;
    BlurredFolderDataset id(d, KernelSampler([delta](Generator&, int64_t) { return delta; }), p);
    Generator g(3);
    const BlurSample s = id.get(1, g);
    for (int64_t i = 0; i < s.sharp.numel(); ++i) REQUIRE(s.blurred.data()[i] == Approx(s.sharp.data()[i]).margin(1e-6));
  }
  SECTION("the sampler sees the iteration") {
    std::vector<Tensor<float>> bank = small_bank();
    BlurredFolderDataset it(d, KernelSampler([bank](Generator&, int64_t t) { return bank[static_cast<size_t>(t % 6)]; }), o);
    Generator g(5);
    CHECK(it.get(0, g, 0).kernel_size == 5);
    CHECK(it.get(0, g, 2).kernel_size == 7);
    CHECK(it.get(0, g, 5).kernel_size == 9);
  }
  SECTION("load_size then whole image") {
    BlurredFolderOptions p;
    p.load_size = {20, 16};
    p.crop = {0, 0};
    BlurredFolderDataset r(d, small_bank(), p);
    Generator g(1);
    CHECK(r.get(4, g).blurred.shape() == Shape{3, 20, 16});
  }
  SECTION("cache_images gives the same samples") {
    BlurredFolderOptions p = o;
    p.cache_images = true;
    BlurredFolderDataset cached(d, small_bank(), p);
    for (int pass = 0; pass < 2; ++pass) {
      Generator ga(21), gb(21);
      const BlurSample x = ds.get(3, ga), y = cached.get(3, gb);
      CHECK(equal(x.blurred, y.blurred));
      CHECK(equal(x.sharp, y.sharp));
    }
  }
  SECTION("batches stack samples") {
    Generator g(1);
    std::vector<BlurSample> v{ds.get(0, g), ds.get(1, g), ds.get(2, g)};
    const BlurBatch bt = BlurredFolderDataset::collate(std::move(v));
    CHECK(bt.blurred.shape() == Shape{3, 3, 32, 24});
    CHECK(bt.kernels.size() == 3);
    CHECK(bt.index.to_vector() == std::vector<int64_t>{0, 1, 2});
  }
}

TEST_CASE("corrupt files: IoError naming the file, or one warning and a skip", "[data][datasets]") {
  const std::string d = image_folder("corrupt", {"a.png", "b.png", "c.png"}, 32, 32);
  test::write_bytes(d + "/b.png", {0x89, 'P', 'N', 'G', 0xde, 0xad, 0xbe, 0xef, 1, 2, 3});
  BlurredFolderOptions o;
  o.crop = {16, 16};
  {
    BlurredFolderDataset ds(d, small_bank(), o);
    Generator g(1);
    CHECK_NOTHROW(ds.get(0, g));
    CHECK_THROWS_AS(ds.get(1, g), IoError);
    CHECK_THROWS_WITH(ds.get(1, g), Catch::Contains(d + "/b.png"));
  }
  o.on_error = OnError::Skip;
  BlurredFolderDataset ds(d, small_bank(), o);
  CerrCapture cap;
  Generator g1(4), g2(4);
  const BlurSample s1 = ds.get(1, g1);
  const BlurSample s2 = ds.get(1, g2);
  CHECK(s1.index == 2);  // the next readable sample
  CHECK(equal(s1.blurred, s2.blurred));
  const std::string err = cap.s.str();
  CHECK(count(err, "b.png") == 1);  // warned once, though met twice

}

TEST_CASE("a garbage label map in a parsing dataset", "[data][parsing]") {
  const std::string root = test::scratch("parse_corrupt");
  fs::create_directories(root + "/images");
  fs::create_directories(root + "/labels");
  for (int i = 0; i < 2; ++i) {
    save_image(random_image(3, 8, 8, i), root + "/images/f" + std::to_string(i) + ".png");
    Tensor<int64_t> l = Tensor<int64_t>::empty(Shape{8, 8});
    std::fill(l.data(), l.data() + 64, int64_t{1});
    save_label_map(l, root + "/labels/f" + std::to_string(i) + ".png");
  }
  test::write_bytes(root + "/labels/f0.png", {1, 2, 3, 4, 5});
  FaceParsingDataset strict = FaceParsingDataset::helen(root);
  Generator g(0);
  CHECK_THROWS_WITH(strict.get(0, g), Catch::Contains(root + "/labels/f0.png"));
  FaceParsingOptions po;
  po.on_error = OnError::Skip;
  FaceParsingDataset lenient = FaceParsingDataset::helen(root, po);
  CHECK(lenient.get(0, g).index == 1);

}

TEST_CASE("PairedFolderDataset: pairing by stem, shared crop, unmatched names", "[data][datasets]") {
  const std::string a = image_folder("pair_blur", {"x.png", "y.png", "z.png"});
  const std::string b = image_folder("pair_sharp", {"x.png", "y.png", "z.png"});  // same pixels
  fs::rename(b + "/y.png", b + "/y.bmp");  // stems match across extensions
  save_image(load_image(a + "/y.png"), b + "/y.bmp");
  PairedFolderOptions o;
  o.crop = {16, 16};
  o.hflip = true;
  PairedFolderDataset ds(a, b, o);
  REQUIRE(ds.size() == 3);
  CHECK(file_name(ds.pairs()[1].second) == "y.bmp");
  Generator g(2);
  for (int64_t i = 0; i < 3; ++i) {
    const PairSample s = ds.get(i, g);
    CHECK(s.blurred.shape() == Shape{3, 16, 16});
    CHECK(equal(s.blurred, s.sharp));  // identical files, so the same crop and flip give equal tensors
  }
  const std::string c = image_folder("pair_sharp2", {"x.png", "w.png", "z.png", "v.jpg"});
  try {
    PairedFolderDataset bad(a, c);
    FAIL("expected an error");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(), Catch::Contains("y.png") && Catch::Contains("w.png") && Catch::Contains("v.jpg"));
  }
  PairedFolderOptions skip;
  skip.skip_unmatched = true;
  CerrCapture cap;
  PairedFolderDataset lenient(a, c, skip);
  CHECK(lenient.size() == 2);
  CHECK_THAT(cap.s.str(), Catch::Contains("w.png"));
}

TEST_CASE("UnpairedFolderDataset: max size, random B, independent crops", "[data][datasets]") {
  const std::string a = image_folder("un_a", {"1.png", "2.png"}, 40, 40);
  const std::string b = image_folder("un_b", {"1.png", "2.png", "3.png", "4.png", "5.png"}, 36, 36);
  UnpairedFolderOptions o;
  o.load_size = {34, 34};
  o.crop = {30, 30};
  UnpairedFolderDataset ds(a, b, o);
  REQUIRE(ds.size() == 5);
  std::set<int64_t> seen_b;
  for (uint64_t s = 0; s < 40; ++s) {
    Generator g(s);
    const UnpairedSample x = ds.get(3, g);
    CHECK(x.index_a == 1);
    CHECK(x.a.shape() == Shape{3, 30, 30});
    CHECK(x.b.shape() == Shape{3, 30, 30});
    seen_b.insert(x.index_b);
  }
  CHECK(seen_b.size() == 5);
}

TEST_CASE("CelebAMask-HQ -> Helen mapping, component masks, flips", "[data][parsing]") {
  const auto t = celebamask_to_helen_table();
  const std::array<int64_t, 19> expected{0, 1, 6, 1, 4, 5, 2, 3, 0, 0, 8, 7, 9, 10, 0, 0, 0, 0, 0};
  CHECK(t == expected);
  CelebAMaskMapping m;
  m.ears_as_skin = m.neck_as_skin = true;
  m.glasses = GlassesAs::Eyes;
  const auto t2 = celebamask_to_helen_table(m);
  CHECK((t2[8] == 1 && t2[9] == 1 && t2[17] == 1 && t2[3] == 4));

  Tensor<int64_t> raw = Tensor<int64_t>::empty(Shape{2, 19});
  for (int64_t i = 0; i < 19; ++i) raw.data()[i] = i, raw.data()[19 + i] = 3;  // row 2: glasses everywhere
  const Tensor<int64_t> h = map_celebamask(raw, m);
  for (int64_t i = 0; i < 19; ++i) CHECK(h.data()[i] == (i == 3 ? 5 : t2[static_cast<size_t>(i)]));  // glasses at column 3: image-left
  CHECK(h.data()[19] == 5);       // image-left half: the subject's right eye
  CHECK(h.data()[19 + 18] == 4);  // image-right half: the subject's left eye
  raw.data()[5] = 19;
  CHECK_THROWS_AS(map_celebamask(raw), IoError);

  Tensor<int64_t> lab = Tensor<int64_t>::empty(Shape{1, 11});
  for (int64_t i = 0; i < 11; ++i) lab.data()[i] = i;
  const Tensor<float> masks = component_masks(lab);
  REQUIRE(masks.shape() == Shape{5, 1, 11});
  const std::vector<std::vector<int64_t>> on{{2, 3}, {4, 5}, {6}, {7, 9}, {8}};
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t i = 0; i < 11; ++i) {
      const bool in = std::count(on[k].begin(), on[k].end(), i) > 0;
      CHECK(masks.data()[k * 11 + i] == (in ? 1.0f : 0.0f));
    }
  const Tensor<int64_t> f = hflip_helen_labels(lab);
  CHECK(f.to_vector() == std::vector<int64_t>{10, 9, 8, 7, 6, 4, 5, 2, 3, 1, 0});
}

TEST_CASE("FaceParsingDataset on a synthetic Helen layout", "[data][parsing]") {
  const std::string root = test::scratch("helen");
  fs::create_directories(root + "/images");
  fs::create_directories(root + "/labels");
  for (int i = 0; i < 3; ++i) {
    save_image(random_image(3, 32, 32, 100 + i), root + "/images/" + std::to_string(i) + ".jpg");
    Tensor<int64_t> l = Tensor<int64_t>::empty(Shape{16, 16});
    for (int64_t p = 0; p < 256; ++p) l.data()[p] = (p / 16 + i) % 11;
    save_label_map(l, root + "/labels/" + std::to_string(i) + ".png");
  }
  FaceParsingDataset ds = FaceParsingDataset::helen(root);
  REQUIRE(ds.size() == 3);
  Generator g(0);
  const ParsingSample s = ds.get(1, g);
  CHECK(s.image.shape() == Shape{3, 16, 16});  // resized to the label size
  CHECK(s.labels.shape() == Shape{16, 16});
  CHECK(s.masks.shape() == Shape{5, 16, 16});
  CHECK(s.labels.data()[0] == 1);
  FaceParsingOptions o;
  o.size = {8, 8};
  o.hflip = true;
  o.affine = RandomAffineOptions{10, {0.1, 0.1}, {0.9, 1.1}};
  FaceParsingDataset aug = FaceParsingDataset::helen(root, o);
  const ParsingBatch b = FaceParsingDataset::collate({aug.get(0, g), aug.get(2, g)});
  CHECK(b.image.shape() == Shape{2, 3, 8, 8});
  CHECK(b.labels.shape() == Shape{2, 8, 8});
  CHECK(b.masks.shape() == Shape{2, 5, 8, 8});
  fs::remove(root + "/labels/2.png");
  CHECK_THROWS_WITH(FaceParsingDataset::helen(root), Catch::Contains("2.jpg"));
}

TEST_CASE("real CelebAMask-HQ labels map onto the 11 Helen classes", "[data][parsing][real]") {
  if (!test::have_shared("parsing/labels")) return;
  FaceParsingDataset ds = FaceParsingDataset::celebamask(test::shared_data("parsing"));
  REQUIRE(ds.size() == 12);
  std::array<int64_t, 11> hist{};
  for (int64_t i = 0; i < ds.size(); ++i) {
    const Tensor<int64_t> l = ds.load_labels(i);
    for (int64_t p = 0; p < l.numel(); ++p) {
      REQUIRE((l.data()[p] >= 0 && l.data()[p] < 11));
      ++hist[static_cast<size_t>(l.data()[p])];
    }
  }
  for (size_t c = 0; c < 11; ++c) {
    INFO("class " << c << " " << helen_class_names()[c]);
    CHECK(hist[c] > 0);
  }
  CHECK(hist[1] > hist[6]);  // more skin than nose
  CHECK(hist[6] > hist[4]);  // more nose than one eye
  Generator g(0);
  const ParsingSample s = ds.get(0, g);
  REQUIRE(s.image.shape() == Shape{3, 512, 512});  // the 1024^2 image brought to the label size
  check_range(s.image);
  const int64_t HW = 512 * 512;
  for (int64_t p = 0; p < HW; ++p) {
    const int64_t c = s.labels.data()[p];
    float sum = 0;
    for (int64_t k = 0; k < 5; ++k) {
      const float v = s.masks.data()[k * HW + p];
      REQUIRE((v == 0.0f || v == 1.0f));
      sum += v;
    }
    REQUIRE(sum == ((c >= 2 && c <= 9) ? 1.0f : 0.0f));
  }
  FaceParsingOptions o;
  o.size = {128, 128};
  const ParsingSample small = FaceParsingDataset::celebamask(test::shared_data("parsing"), o).get(3, g);
  CHECK(small.image.shape() == Shape{3, 128, 128});
  CHECK(small.labels.shape() == Shape{128, 128});
}

TEST_CASE("real faces blurred on the fly", "[data][datasets][real]") {
  if (!test::have_shared("faces")) return;
  BlurredFolderOptions o;
  o.load_size = {160, 160};
  o.crop = {128, 128};
  Generator kg(1);
  BlurredFolderDataset ds(test::shared_data("faces"), make_kernel_bank({13, 27}, 2, kg), o);
  REQUIRE(ds.size() == 32);
  Generator g(9);
  const BlurSample s = ds.get(31, g);
  CHECK(s.blurred.shape() == Shape{3, 128, 128});
  check_range(s.blurred);
  double d = 0;
  for (int64_t i = 0; i < s.sharp.numel(); ++i) d += std::abs(s.blurred.data()[i] - s.sharp.data()[i]);
  CHECK(d / static_cast<double>(s.sharp.numel()) > 0.005);  // blurred and noisy, visibly different
}
