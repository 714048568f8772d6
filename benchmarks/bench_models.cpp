// Whole-model speed, crisp beside libtorch in one process: a train step (forward, the training
// program's loss terms, backward, Adam) and a no-grad forward for each of the papers' networks at
// the papers' resolutions, plus the demo's step. docs/benchmarks.md ("Whole models") says what each
// step contains and records the runs.
//
// Method: both libraries get the same thread count (default 2: OpenMP for crisp, at::set_num_threads
// for libtorch, which shares libgomp). Each case builds its model once per library and runs one
// untimed warm-up step; then rounds alternate crisp, torch, crisp, torch, ... Every round is one
// Google Benchmark row that takes the best of a few steps (as many as fit in ~1 s, at most 3,
// at least 1). The summary at the end gives, per case and library, the best and the median over
// the rounds and the ratio torch / crisp (> 1: crisp is faster).
//
//   bench_models [--rounds=N] [--threads=N] [Google Benchmark flags]
//   bench_models --benchmark_filter=srn            one network (rows <model>_<size>/<train|infer>/<lib>/round:<r>)
//   bench_models --benchmark_filter='demo.*/train'
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench_models.hpp"

namespace {

using namespace bench_models;
using Clock = std::chrono::steady_clock;

constexpr double kRoundTarget = 1.0;  // seconds of steps per round (at least one step)
constexpr int kMaxStepsPerRound = 3;

int g_threads = 2;
int g_rounds = 3;

struct Slot {
  std::unique_ptr<Runner> runner;
  int steps_per_round = 1;
};
std::map<std::string, Slot> g_slots;  // by "<case>/<lib>"

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of the whole process (all threads, user + system). On a shared machine the wall time
// of a step grows with the other jobs' load; its CPU time much less (it still counts libgomp's
// spinning), so the summary reports both.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string case_name(const std::string& model, Mode mode) {
  return model + "_" + model_size(model) + (mode == Mode::Train ? "/train" : "/infer");
}

void BM_round(benchmark::State& state, std::string model, Mode mode, bool torch, int round) {
  const std::string key = case_name(model, mode) + (torch ? "/torch" : "/crisp");
  Slot& s = g_slots[key];
  try {
    if (!s.runner) {
      s.runner = torch ? make_torch(model, mode) : make_crisp(model, mode);
      const auto t0 = Clock::now();
      s.runner->step();  // warm-up: thread pools, first-touch pages, lazily packed weights
      const double dt = seconds_since(t0);
      s.steps_per_round = std::clamp(static_cast<int>(kRoundTarget / std::max(dt, 1e-6)), 1, kMaxStepsPerRound);
    }
    double best_cpu = 1e300;
    for (auto _ : state) {
      double best = 1e300;
      for (int i = 0; i < s.steps_per_round; ++i) {
        const auto t0 = Clock::now();
        const double c0 = process_cpu_seconds();
        s.runner->step();
        best = std::min(best, seconds_since(t0));
        best_cpu = std::min(best_cpu, process_cpu_seconds() - c0);
      }
      state.SetIterationTime(best);
    }
    state.counters["cpu_s"] = best_cpu;
    const double v = s.runner->last_value();
    if (!std::isfinite(v)) state.SkipWithError("the step produced a non-finite value");
    state.counters["steps"] = s.steps_per_round;
    state.SetLabel(std::to_string(s.runner->parameters()) + " params, value " + std::to_string(v));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  if (round + 1 == g_rounds) s.runner.reset();  // free the model before the next case
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Prints the usual rows, then the summary: per case, best and median round of each library.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      const std::string name = r.benchmark_name();  // <case>/<lib>/round:<r>/manual_time
      const size_t lib_end = name.find("/round:"), lib_begin = name.rfind('/', lib_end - 1);
      const std::string c = name.substr(0, lib_begin), lib = name.substr(lib_begin + 1, lib_end - lib_begin - 1);
      if (std::find(order_.begin(), order_.end(), c) == order_.end()) order_.push_back(c);
      times_[c][lib].push_back(r.real_accumulated_time / static_cast<double>(r.iterations));
      const auto cpu = r.counters.find("cpu_s");
      if (cpu != r.counters.end()) cpu_[c][lib].push_back(cpu->second.value);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nSummary: seconds per step, best and median of the rounds; ratio = torch / crisp (> 1: crisp faster)\n");
    std::printf("load average at the end: %s\n", loadavg().c_str());
    std::printf("(cpu ratio: the same for the best process CPU seconds per step, all threads)\n");
    std::printf("%-26s %7s %10s %10s %10s %10s %9s %9s %9s\n", "case", "rounds", "crisp best", "crisp med", "torch best",
                "torch med", "ratio bst", "ratio med", "cpu ratio");
    for (const std::string& c : order_) {
      const auto& crisp = times_[c]["crisp"];
      const auto& torch = times_[c]["torch"];
      auto cell = [](const std::vector<double>& v, bool best) {
        char b[32];
        if (v.empty()) return std::string("-");
        std::snprintf(b, sizeof b, "%.4f", best ? *std::min_element(v.begin(), v.end()) : median(v));
        return std::string(b);
      };
      auto ratio = [&](bool best) {
        char b[32];
        if (crisp.empty() || torch.empty()) return std::string("-");
        const double cr = best ? *std::min_element(crisp.begin(), crisp.end()) : median(crisp);
        const double tr = best ? *std::min_element(torch.begin(), torch.end()) : median(torch);
        std::snprintf(b, sizeof b, "%.2f", tr / cr);
        return std::string(b);
      };
      const auto& cc = cpu_[c]["crisp"];
      const auto& tc = cpu_[c]["torch"];
      char cpu_ratio[32] = "-";
      if (!cc.empty() && !tc.empty())
        std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.2f",
                      *std::min_element(tc.begin(), tc.end()) / *std::min_element(cc.begin(), cc.end()));
      std::printf("%-26s %3zu/%-3zu %10s %10s %10s %10s %9s %9s %9s\n", c.c_str(), crisp.size(), torch.size(),
                  cell(crisp, true).c_str(), cell(crisp, false).c_str(), cell(torch, true).c_str(),
                  cell(torch, false).c_str(), ratio(true).c_str(), ratio(false).c_str(), cpu_ratio);
    }
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::map<std::string, std::vector<double>>> times_, cpu_;
};

// Takes --rounds=N and --threads=N out of argv before Google Benchmark sees it.
void parse_own_flags(int& argc, char** argv) {
  if (const char* t = std::getenv("CRISP_BENCH_THREADS")) g_threads = std::max(1, std::atoi(t));
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rounds=", 9) == 0) g_rounds = std::max(1, std::atoi(argv[i] + 9));
    else if (std::strncmp(argv[i], "--threads=", 10) == 0) g_threads = std::max(1, std::atoi(argv[i] + 10));
    else argv[out++] = argv[i];
  }
  argc = out;
}

}  // namespace

int main(int argc, char** argv) {
  parse_own_flags(argc, argv);
  crisp_set_threads(g_threads);
  torch_set_threads(g_threads);
  std::printf("bench_models: crisp vs libtorch %s, %d threads each, %d alternating rounds\n", torch_version().c_str(),
              g_threads, g_rounds);
  std::printf("CPU: %s; load average at start: %s\n", cpu_model().c_str(), loadavg().c_str());
  for (const std::string& model : model_names())
    for (Mode mode : {Mode::Train, Mode::Infer})
      for (int r = 0; r < g_rounds; ++r)
        for (bool torch : {false, true}) {
          const std::string name =
              case_name(model, mode) + (torch ? "/torch" : "/crisp") + "/round:" + std::to_string(r);
          benchmark::RegisterBenchmark(name.c_str(), BM_round, model, mode, torch, r)
              ->Iterations(1)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond);
        }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
