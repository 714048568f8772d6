// Checkpoints of a whole training run - every tracked model with its optimiser (and scheduler),
// the step, the run's Generator - as one folder per step, found again through a `latest` file.
#pragma once

// Layout under `dir` (OUT/checkpoints):
//   step_0001000/<name>.safetensors   one crisp::io checkpoint per tracked (model, optimiser)
//   latest                            the text "step_0001000": the newest COMPLETE checkpoint
// Each file is written atomically by io::save_checkpoint; `latest` is rewritten atomically only
// after all files of the step exist, so a crash at any moment leaves `latest` naming a complete
// folder (a half-written newer folder is ignored and deleted by the next save). Saving keeps the
// newest `keep` folders at or below the saved step and deletes folders of later steps (left
// over by a run that was resumed from an earlier checkpoint).
// Every file holds the step, the Generator's state and the user metadata; load() checks that
// all tracked names are present and agree on the step, then loads them one by one (a file that
// does not fit its model throws the io::load_checkpoint error listing every mismatch).
#include <crisp/data/image_io.hpp>
#include <crisp/io/checkpoint.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "run_dir.hpp"

namespace crisp::examples {

class Checkpointer {
 public:
  using Meta = std::map<std::string, std::string>;

  explicit Checkpointer(std::string dir = "checkpoints", int64_t keep = 2) : dir_(std::move(dir)), keep_(keep) {
    CRISP_CHECK(keep_ >= 1, ValueError, "Checkpointer", "expected keep >= 1, got ", keep_);
  }

  // Adds a model (a module, a ModuleHolder or a shared_ptr to one) with its optimiser and, when
  // given, its LR scheduler, saved as <name>.safetensors. They must outlive the Checkpointer.
  template <class Model, class T>
  void track(const std::string& name, Model& model, optim::OptimizerT<T>& optimizer,
             optim::LRScheduler* scheduler = nullptr) {
    CRISP_CHECK(!name.empty() && name.find_first_of("/\\.") == std::string::npos, ValueError, "Checkpointer",
                "expected a plain name without '/', '\\' or '.', got '", name, "'");
    for (const auto& e : entries_)
      CRISP_CHECK(e.name != name, ValueError, "Checkpointer", "the name '", name, "' is tracked twice");
    Model* m = &model;
    auto* o = &optimizer;
    entries_.push_back(
        {name,
         [m, o, scheduler](const std::string& path, int64_t step, const Generator* gen, const Meta& meta) {
           io::save_checkpoint(path, *m, *o, scheduler, step, gen, meta);
         },
         [m, o, scheduler](const std::string& path, Generator* gen) {
           return io::load_checkpoint(path, *m, *o, scheduler, gen);
         }});
  }

  // Writes step_<step>/ and then points `latest` at it. Returns the folder.
  std::string save(int64_t step, const Generator* gen, const Meta& meta = {}) {
    CRISP_CHECK(!entries_.empty(), ValueError, "Checkpointer", "nothing to save: no model was tracked");
    namespace fs = std::filesystem;
    const fs::path folder = fs::path(dir_) / step_name(step);
    fs::create_directories(folder);
    for (const auto& e : entries_) e.save((folder / (e.name + ".safetensors")).string(), step, gen, meta);
    const std::string text = step_name(step) + "\n";
    data::detail::write_file_atomic((fs::path(dir_) / "latest").string(),
                                    std::vector<uint8_t>(text.begin(), text.end()), "Checkpointer");
    prune(step);
    return folder.string();
  }

  // The folder `latest` names, or nullopt when there is none.
  std::optional<std::string> latest() const {
    namespace fs = std::filesystem;
    std::ifstream f(fs::path(dir_) / "latest");
    std::string name;
    if (!f || !std::getline(f, name) || name.empty()) return std::nullopt;
    CRISP_CHECK(name.rfind("step_", 0) == 0 && name.find('/') == std::string::npos, IoError, "Checkpointer", "'",
                (fs::path(dir_) / "latest").string(), "' should name a step_N folder, it holds '", name, "'");
    return (fs::path(dir_) / name).string();
  }

  // Loads every tracked model from `folder` (and the Generator, when given, from the first).
  io::CheckpointInfo load(const std::string& folder, Generator* gen) {
    namespace fs = std::filesystem;
    CRISP_CHECK(!entries_.empty(), ValueError, "Checkpointer", "nothing to load: no model was tracked");
    CRISP_CHECK(fs::is_directory(folder), IoError, "Checkpointer", "checkpoint folder '", folder, "' does not exist");
    std::vector<std::string> missing;
    for (const auto& e : entries_)
      if (!fs::exists(fs::path(folder) / (e.name + ".safetensors"))) missing.push_back(e.name + ".safetensors");
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      throw IoError("Checkpointer: checkpoint folder '" + folder + "' lacks " + list +
                    " (was it written by another program?)");
    }
    io::CheckpointInfo first;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const auto info = entries_[i].load((fs::path(folder) / (entries_[i].name + ".safetensors")).string(),
                                         i == 0 ? gen : nullptr);
      if (i == 0) first = info;
      CRISP_CHECK(info.step == first.step, IoError, "Checkpointer", "'", folder, "': ", entries_[i].name,
                  " is at step ", info.step, " but ", entries_[0].name, " at step ", first.step);
    }
    return first;
  }

  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::string name;
    std::function<void(const std::string&, int64_t, const Generator*, const Meta&)> save;
    std::function<io::CheckpointInfo(const std::string&, Generator*)> load;
  };

  void prune(int64_t saved) const {
    namespace fs = std::filesystem;
    std::vector<std::pair<int64_t, fs::path>> steps;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (!it->is_directory() || n.rfind("step_", 0) != 0 || n.size() < 6 ||
          n.find_first_not_of("0123456789", 5) != std::string::npos)
        continue;
      steps.emplace_back(std::stoll(n.substr(5)), it->path());
    }
    std::sort(steps.begin(), steps.end());
    int64_t kept = 0;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      const bool stale = it->first > saved;  // from an abandoned, longer run
      if (!stale && kept < keep_) {
        ++kept;
        continue;
      }
      fs::remove_all(it->second, ec);  // best effort: a leftover folder is harmless
    }
  }

  std::string dir_;
  int64_t keep_;
  std::vector<Entry> entries_;
};

}  // namespace crisp::examples
