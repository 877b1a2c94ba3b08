// SafetensorsModel: one name -> tensor view over a single file or a sharded checkpoint.
// Sharded layout (Hugging Face transformers, modeling_utils save_pretrained): the shards sit
// next to <prefix>.safetensors.index.json = {"metadata": {...}, "weight_map": {name: shard}}.
#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "io/safetensors_detail.h"

namespace rs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A shard name from an index must stay inside the index's directory.
void check_shard_name(const std::string& index_path, const std::string& tensor,
                      const std::string& shard) {
  fs::path p(shard);
  bool bad = shard.empty() || p.is_absolute();
  for (const auto& part : p)
    if (part == "..") bad = true;
  if (bad)
    fail(index_path, ": weight_map key '", tensor, "': shard \"", shard,
         "\" must be a file name relative to the index's directory");
}

}  // namespace

void SafetensorsModel::add_file(std::unique_ptr<SafetensorsFile> f) {
  for (const auto& t : f->tensors()) {
    auto [it, inserted] = tensors_.emplace(t.name, &t);
    if (!inserted)
      fail(path_, ": tensor '", t.name, "' appears in both ", *it->second->file, " and ",
           f->path());
  }
  files_.push_back(std::move(f));
}

std::unique_ptr<SafetensorsModel> SafetensorsModel::open(const std::string& path) {
  auto m = std::make_unique<SafetensorsModel>();
  m->path_ = path;
  std::error_code ec;
  std::string index_path;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    if (fs::exists(dir / "model.safetensors.index.json", ec)) {
      index_path = (dir / "model.safetensors.index.json").string();
    } else if (fs::exists(dir / "model.safetensors", ec)) {
      auto f = SafetensorsFile::open((dir / "model.safetensors").string());
      m->metadata_ = f->metadata();
      m->add_file(std::move(f));
      return m;
    } else {
      std::vector<std::string> shards;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && ends_with(e.path().filename().string(), ".safetensors"))
          shards.push_back(e.path().string());
      if (shards.empty())
        fail(path, ": no model.safetensors.index.json, model.safetensors or *.safetensors here");
      std::sort(shards.begin(), shards.end());
      for (const auto& s : shards) m->add_file(SafetensorsFile::open(s));
      return m;
    }
  } else if (ends_with(path, ".json")) {
    index_path = path;
  } else {
    auto f = SafetensorsFile::open(path);
    m->metadata_ = f->metadata();
    m->add_file(std::move(f));
    return m;
  }

  // Index file.
  m->path_ = index_path;
  const std::string text = read_file(index_path);
  json idx;
  try {
    idx = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(index_path, ": offset ", e.byte > 0 ? e.byte - 1 : 0, ": invalid JSON: ",
         st_detail::parse_error_detail(e.what()));
  } catch (const json::exception& e) {  // e.g. a number too large
    fail(index_path, ": invalid JSON: ", st_detail::json_error_detail(e.what()));
  }
  if (!idx.is_object()) fail(index_path, ": expected a JSON object, found ", idx.type_name());
  auto wm = idx.find("weight_map");
  if (wm == idx.end()) fail(index_path, ": key 'weight_map': missing");
  if (!wm->is_object())
    fail(index_path, ": key 'weight_map': expected an object {tensor: shard}, found ",
         wm->type_name());
  if (auto md = idx.find("metadata"); md != idx.end() && md->is_object())
    for (auto it = md->begin(); it != md->end(); ++it)
      m->metadata_[it.key()] = it.value().is_string() ? it.value().get<std::string>()
                                                      : it.value().dump();

  const fs::path dir = fs::path(index_path).parent_path();
  std::map<std::string, std::vector<std::string>> by_shard;  // shard -> tensors it must hold
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string())
      fail(index_path, ": weight_map key '", it.key(), "': expected a shard file name, found ",
           it.value().type_name());
    const std::string shard = it.value().get<std::string>();
    check_shard_name(index_path, it.key(), shard);
    by_shard[shard].push_back(it.key());
  }
  for (const auto& [shard, names] : by_shard) {
    auto f = SafetensorsFile::open((dir / shard).string());
    for (const auto& n : names)
      if (!f->find(n))
        fail(index_path, ": weight_map key '", n, "': expected tensor in ", f->path(),
             ", which has no tensor of that name");
    m->add_file(std::move(f));
  }
  return m;
}

const StTensor* SafetensorsModel::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

const StTensor& SafetensorsModel::tensor(const std::string& name) const {
  if (const StTensor* t = find(name)) return *t;
  fail(path_, ": no tensor named '", name, "' (", tensors_.size(), " tensors in ", files_.size(),
       " file(s))");
}

uint64_t SafetensorsModel::total_bytes() const {
  uint64_t n = 0;
  for (const auto& kv : tensors_) n += kv.second->nbytes;
  return n;
}

}  // namespace rs
