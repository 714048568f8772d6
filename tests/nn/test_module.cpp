// nn::Module: registration, dotted names in registration order, state dicts (safetensors round
// trip, strict / non-strict loading that changes nothing on failure), shared handles, train/eval,
// zero_grad, apply, to(device), printing, and the containers Sequential / ModuleList / Functional.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <crisp/crisp.hpp>
#include <crisp/nn/nn.hpp>

namespace nn = crisp::nn;
using crisp::Shape;
using crisp::Tensor;

namespace {

// A user module written the libtorch way: members assigned from register_*.
struct NetImpl : nn::Module {
  explicit NetImpl(crisp::Generator& gen) {
    scale = register_parameter("scale", crisp::ones<float>({3}));
    running = register_buffer("running", crisp::zeros<float>({3}));
    block = register_module("block", nn::Sequential(nn::Linear(nn::LinearOptions(3, 4), gen), nn::ReLU(),
                                                    nn::Linear(nn::LinearOptions(4, 2), gen)));
    head = register_module("head", nn::Linear(nn::LinearOptions(2, 1).bias(false), gen));
  }
  Tensor<float> forward(const Tensor<float>& x) { return head(block(x * scale)); }
  Tensor<float> scale, running;
  nn::Sequential block{nullptr};
  nn::Linear head{nullptr};
};
CRISP_MODULE(Net);

std::vector<std::string> keys_of(const nn::OrderedDict<Tensor<float>>& d) { return d.keys(); }

std::string temp_path(const char* name) { return (std::filesystem::temp_directory_path() / name).string(); }

}  // namespace

TEST_CASE("registration order and PyTorch's dotted names") {
  crisp::Generator gen(1);
  Net net(gen);
  CHECK(keys_of(net.named_parameters()) ==
        std::vector<std::string>{"scale", "block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias", "head.weight"});
  CHECK(keys_of(net.named_parameters(false)) == std::vector<std::string>{"scale"});
  CHECK(keys_of(net.named_buffers()) == std::vector<std::string>{"running"});
  CHECK(net.named_children().keys() == std::vector<std::string>{"block", "head"});
  CHECK(net.named_modules().keys() == std::vector<std::string>{"", "block", "block.0", "block.1", "block.2", "head"});
  CHECK(net.named_modules("net", true).keys()[2] == "net.block.0");
  CHECK(net.modules(false).size() == 5);
  CHECK(net.parameters().size() == 6);
  const auto sd = net.state_dict();
  std::vector<std::string> sd_keys;
  for (auto& [k, v] : sd) sd_keys.push_back(k);
  CHECK(sd_keys == std::vector<std::string>{"block.0.bias", "block.0.weight", "block.2.bias", "block.2.weight",
                                            "head.weight", "running", "scale"});
  // Parameters are leaves that require grad; buffers do not.
  for (auto& [name, p] : net.named_parameters()) CHECK((p.is_leaf() && p.requires_grad()));
  for (auto& b : net.buffers()) CHECK(!b.requires_grad());
  // The member handle and the registered one are the same tensor.
  CHECK(net->block->ptr<nn::Linear>(0)->weight.same(net.named_parameters()["block.0.weight"]));
  CHECK(net->name().find("NetImpl") != std::string::npos);
}

TEST_CASE("bad registrations throw naming the problem") {
  nn::Module m;
  m.register_parameter("w", crisp::zeros<float>({2}));
  CHECK_THROWS_WITH(m.register_buffer("w", crisp::zeros<float>({2})), Catch::Contains("already registered"));
  CHECK_THROWS_WITH(m.register_parameter("a.b", crisp::zeros<float>({2})), Catch::Contains("without '.'"));
  CHECK_THROWS_WITH(m.register_parameter("", crisp::zeros<float>({2})), Catch::Contains("non-empty"));
  CHECK_THROWS_AS(m.register_module("c", std::shared_ptr<nn::LinearImpl>()), crisp::ValueError);
  // An undefined parameter (bias = None) is registered but listed nowhere.
  m.register_parameter("bias", Tensor<float>(), false);
  CHECK(m.named_parameters().keys() == std::vector<std::string>{"w"});
  CHECK(m.state_dict().size() == 1);
  // A non-leaf is detached into a leaf.
  auto x = crisp::ones<float>({2}).requires_grad_();
  auto p = m.register_parameter("derived", x * 2.0f);
  CHECK((p.is_leaf() && p.requires_grad()));
}

TEST_CASE("state_dict round trip through safetensors") {
  crisp::Generator g1(1), g2(2);
  Net a(g1), b(g2);
  {
    crisp::NoGradGuard ng;
    a->running.fill_(7.0f);
  }
  CHECK(a.state_dict().at("block.0.weight").to_vector() != b.state_dict().at("block.0.weight").to_vector());
  const auto path = temp_path("crisp_nn_module_roundtrip.safetensors");
  crisp::io::save_safetensors(path, a.state_dict());
  const auto w_before = b->block->ptr<nn::Linear>(0)->weight;
  auto res = b.load_state_dict(crisp::io::load_safetensors(path));
  CHECK(res.missing_keys.empty());
  CHECK(res.unexpected_keys.empty());
  for (auto& [k, v] : a.state_dict()) CHECK(b.state_dict().at(k).to_vector() == v.to_vector());
  // In place: the same tensors, still leaves requiring grad, no graph recorded.
  CHECK(b->block->ptr<nn::Linear>(0)->weight.same(w_before));
  CHECK((w_before.is_leaf() && w_before.requires_grad()));
  CHECK(b->running.to_vector() == std::vector<float>{7, 7, 7});
  std::remove(path.c_str());

  // The state dict shares storage with the module, detached.
  auto sd = a.state_dict();
  CHECK(sd.at("scale").shares_storage_with(a->scale));
  CHECK(!sd.at("scale").requires_grad());
}

TEST_CASE("strict load lists every problem in one error and changes nothing") {
  crisp::Generator g1(1), g2(2);
  Net a(g1), b(g2);
  auto sd = a.state_dict();
  sd.erase("head.weight");
  sd.erase("running");
  sd["bogus"] = crisp::zeros<float>({1});
  sd["block.0.weight"] = crisp::zeros<float>({4, 5});
  sd["scale"] = crisp::zeros<float>({2});
  const auto before = b.state_dict();
  std::map<std::string, std::vector<float>> values;
  for (auto& [k, v] : before) values[k] = v.to_vector();
  std::string msg;
  try {
    b.load_state_dict(sd);
  } catch (const crisp::Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("load_state_dict") && Catch::Contains("missing keys (2)") &&
                      Catch::Contains("head.weight") && Catch::Contains("running") &&
                      Catch::Contains("unexpected keys (1)") && Catch::Contains("bogus") &&
                      Catch::Contains("shape mismatches (2)") && Catch::Contains("block.0.weight: expected shape [4, 3], got [4, 5]") &&
                      Catch::Contains("scale: expected shape [3], got [2]"));
  for (auto& [k, v] : b.state_dict()) CHECK(v.to_vector() == values[k]);

  // Non-strict: key problems are returned, shape mismatches still throw (as PyTorch).
  CHECK_THROWS_WITH(b.load_state_dict(sd, false), Catch::Contains("shape mismatches (2)") &&
                                                      !Catch::Contains("missing keys"));
  for (auto& [k, v] : b.state_dict()) CHECK(v.to_vector() == values[k]);
  sd["block.0.weight"] = a.state_dict().at("block.0.weight");
  sd["scale"] = a.state_dict().at("scale");
  auto res = b.load_state_dict(sd, false);
  CHECK(res.missing_keys == std::vector<std::string>{"head.weight", "running"});
  CHECK(res.unexpected_keys == std::vector<std::string>{"bogus"});
  CHECK(b.state_dict().at("block.0.weight").to_vector() == a.state_dict().at("block.0.weight").to_vector());
  CHECK(b.state_dict().at("head.weight").to_vector() == values["head.weight"]);
}

TEST_CASE("holders are shared handles") {
  crisp::Generator gen(3);
  nn::Linear a(nn::LinearOptions(3, 2), gen);
  nn::Linear b = a;
  CHECK(a.get() == b.get());
  CHECK(a->weight.same(b->weight));
  {
    crisp::NoGradGuard ng;
    b->weight.fill_(0.5f);
  }
  CHECK(a->weight.to_vector() == std::vector<float>(6, 0.5f));
  nn::Linear empty{nullptr};
  CHECK(empty.is_empty());
  CHECK_THROWS_WITH(empty->forward(crisp::zeros<float>({1, 3})), Catch::Contains("empty holder"));
  // The same module registered twice: listed once, saved under both names (as PyTorch).
  nn::Sequential seq(a, b);
  CHECK(seq.named_parameters().keys() == std::vector<std::string>{"0.weight", "0.bias"});
  CHECK(seq.named_modules().size() == 2);
  CHECK(seq.state_dict().size() == 4);
}

TEST_CASE("train / eval propagate; zero_grad; apply; to") {
  crisp::Generator gen(4);
  Net net(gen);
  CHECK(net.is_training());
  net.eval();
  for (auto& m : net.modules()) CHECK(!m->is_training());
  net.train();
  for (auto& m : net.modules()) CHECK(m->is_training());
  net->block.train(false);
  CHECK(net.is_training());
  CHECK(!net->block->ptr(0)->is_training());

  auto x = crisp::randn<float>({5, 3}, gen);
  net(x).sum().backward();
  for (auto& p : net.parameters()) CHECK(p.grad().defined());
  net.zero_grad(false);
  for (auto& p : net.parameters()) CHECK(p.grad().to_vector() == std::vector<float>(size_t(p.numel()), 0.0f));
  net.zero_grad();
  for (auto& p : net.parameters()) CHECK(!p.grad().defined());

  int linears = 0;
  std::vector<std::string> names;
  net.apply([&](nn::Module& m) {
    if (auto* lin = m.as<nn::Linear>()) {
      ++linears;
      nn::init::constant_(lin->weight, 0.25);
    }
  });
  net->apply([&](const std::string& name, nn::Module&) { names.push_back(name); });
  CHECK(linears == 3);
  CHECK(names == std::vector<std::string>{"", "block", "block.0", "block.1", "block.2", "head"});
  CHECK(net->head->weight.to_vector() == std::vector<float>{0.25f, 0.25f});
  CHECK(net->as<nn::ReLU>() == nullptr);

  net.to(crisp::Device::cpu());
  CHECK_THROWS_WITH(net.to(crisp::Device::cuda(0)), Catch::Contains("Module::to") && Catch::Contains("no CUDA backend") &&
                                                         Catch::Contains("cuda:0"));
}

TEST_CASE("printing follows PyTorch's layout") {
  nn::Sequential seq(nn::Linear(2, 3), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)), nn::Tanh());
  std::ostringstream os;
  os << seq;
  CHECK(os.str() ==
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Tanh()\n)");
}

TEST_CASE("Sequential, ModuleList and Functional") {
  crisp::Generator gen(5);
  nn::Sequential seq;
  seq->push_back(nn::Linear(nn::LinearOptions(4, 3), gen));
  seq->push_back(nn::Functional([](const Tensor<float>& x) { return crisp::relu(x); }));
  seq->push_back("out", nn::Linear(3, 2, gen));
  CHECK(seq->size() == 3);
  CHECK(seq.named_parameters().keys() == std::vector<std::string>{"0.weight", "0.bias", "out.weight", "out.bias"});
  auto x = crisp::randn<float>({2, 4}, gen);
  auto& l0 = seq->at<nn::LinearImpl>(0);
  auto l2 = seq->ptr<nn::Linear>(2);
  auto expect = l2->forward(crisp::relu(l0.forward(x)));
  CHECK(seq(x).to_vector() == expect.to_vector());
  CHECK_THROWS_WITH(seq->ptr<nn::ReLU>(0), Catch::Contains("not the requested type"));
  CHECK_THROWS_AS(seq->ptr(7), crisp::ShapeError);

  nn::ModuleList list(nn::Linear(2, 2), nn::ReLU());
  list->push_back(nn::Linear(2, 1));
  CHECK(list->size() == 3);
  CHECK(list.named_parameters().keys() == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(list->ptr<nn::Linear>(2)->options.out_features() == 1);
  int n = 0;
  for (auto& m : *list) n += m->name() == "Linear";
  CHECK(n == 2);
}

TEST_CASE("double-precision modules: gradcheck through Linear") {
  crisp::Generator gen(6);
  nn::LinearT<double> lin(nn::LinearOptions(3, 2), gen);
  auto x = crisp::randn<double>({4, 3}, gen).requires_grad_();
  CHECK(crisp::gradcheck([&](const std::vector<Tensor<double>>& v) { return lin(v[0]); }, {x}));
  // The parameters' gradients, through the module: d sum(y * r) / dW = r^T x, / db = sum_rows(r).
  auto r = crisp::randn<double>({4, 2}, gen);
  lin.zero_grad();  // the gradcheck's backward accumulated into them too
  (lin(x) * r).sum().backward();
  const auto gw = crisp::matmul(r.t(), x.detach()).to_vector(), gb = r.sum({0}).to_vector();
  const auto aw = lin->weight.grad().to_vector(), ab = lin->bias.grad().to_vector();
  for (size_t i = 0; i < gw.size(); ++i) CHECK(aw[i] == Approx(gw[i]).epsilon(1e-12));
  for (size_t i = 0; i < gb.size(); ++i) CHECK(ab[i] == Approx(gb[i]).epsilon(1e-12));
}
