#include "cli/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/folder.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "data/outputs.h"
#include "io/safetensors.h"

namespace rs::cli {

using nlohmann::json;

namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

void write_all(int fd, const std::string& s, const std::string& path) {
  const char* p = s.data();
  size_t n = s.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path, ": write failed (", std::strerror(errno), ")");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

std::string file_fingerprint(const std::string& path) {
  const std::string s = read_file(path);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis and prime (Fowler, Noll, Vo)
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::to_string(s.size()) + ":" + hex;
}

json files_fingerprint(const std::vector<std::string>& paths) {
  json a = json::array();
  for (const auto& p : paths) a.push_back(file_fingerprint(p));
  return a;
}

json model_settings(const ModelOptions& o, const std::string& model_path) {
  struct stat st {};
  if (::stat(model_path.c_str(), &st) != 0) fail_as(ExitCode::kModel, model_path, ": cannot stat (", std::strerror(errno), ")");
  return {{"path", model_path}, {"size", static_cast<uint64_t>(st.st_size)},
          {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
          {"device", o.device}, {"dtype", o.dtype}, {"weights", o.weights}, {"threads", o.threads},
          {"seed", o.seed}, {"edit", o.edit.empty() ? json(nullptr) : json(file_fingerprint(o.edit))}};
}

json double_to_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double double_from_json(const json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    return NAN;
  }
  return j.is_null() ? NAN : j.get<double>();
}

json tensor_to_json(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU).contiguous();
  json data = json::array();
  std::string dtype;
  if (c.scalar_type() == at::kFloat) {
    dtype = "f32";
    const float* p = c.data_ptr<float>();
    for (int64_t i = 0; i < c.numel(); ++i) data.push_back(static_cast<double>(p[i]));
  } else if (c.scalar_type() == at::kDouble) {
    dtype = "f64";
    const double* p = c.data_ptr<double>();
    for (int64_t i = 0; i < c.numel(); ++i) data.push_back(p[i]);
  } else if (c.scalar_type() == at::kLong) {
    dtype = "i64";
    const int64_t* p = c.data_ptr<int64_t>();
    for (int64_t i = 0; i < c.numel(); ++i) data.push_back(p[i]);
  } else {
    fail("checkpoint: tensors of type ", c.scalar_type(), " are not supported");
  }
  return {{"dtype", dtype}, {"shape", c.sizes().vec()}, {"data", data}};
}

at::Tensor tensor_from_json(const json& j) {
  const std::string dtype = j.at("dtype").get<std::string>();
  const std::vector<int64_t> shape = j.at("shape").get<std::vector<int64_t>>();
  const json& d = j.at("data");
  if (dtype == "i64") {
    std::vector<int64_t> v = d.get<std::vector<int64_t>>();
    return at::tensor(v, at::kLong).view(shape).clone();
  }
  std::vector<double> v;
  for (const auto& x : d) v.push_back(x.is_null() ? NAN : x.get<double>());  // NaN is written as null
  at::Tensor t = at::tensor(v, at::kDouble).view(shape);
  return dtype == "f32" ? t.to(at::kFloat) : t.clone();
}

Checkpoint::Checkpoint(std::string dir, json settings, bool resume, std::string command)
    : dir_(std::move(dir)), command_(std::move(command)) {
  install_interrupt_handlers();
  const std::string settings_path = dir_ + "/settings.json", rows_path = dir_ + "/rows.jsonl";
  settings["checkpoint_format"] = 1;
  if (resume && exists(settings_path)) {
    json prev;
    try {
      prev = json::parse(read_file(settings_path));
    } catch (const json::exception&) {
      fail_as(ExitCode::kUsage, settings_path, ": not valid JSON; rerun without --resume to start afresh");
    }
    for (const auto& [k, v] : settings.items())
      if (!prev.contains(k) || prev[k] != v)
        fail_as(ExitCode::kUsage, dir_, ": --resume: the finished rows there were computed with ", k, " = ",
                prev.contains(k) ? prev[k].dump() : "(unset)", ", this run has ", v.dump(),
                "; rerun without --resume (starts afresh) or use another --out");
    for (const auto& [k, v] : prev.items())
      if (!settings.contains(k))
        fail_as(ExitCode::kUsage, dir_, ": --resume: the finished rows there were computed with ", k, " = ", v.dump(),
                ", which this run does not set; rerun without --resume or use another --out");
    load();
    if (n_resumed_) log_info(str(command_, ": resuming from ", n_resumed_, " finished rows in ", dir_));
  } else {
    if (resume) log_info(str(command_, ": --resume: no checkpoint in ", dir_, "; starting from the first row"));
    if (exists(dir_)) remove_flat_folder(dir_);
    make_dirs(dir_);
    write_file_atomic(settings_path, settings.dump(2) + "\n");
  }
  fd_ = ::open(rows_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(rows_path, ": cannot open for appending (", std::strerror(errno), ")");
}

Checkpoint::~Checkpoint() {
  if (fd_ >= 0) ::close(fd_);
  // A run that stops before its first row (bad input, a row longer than the context) leaves
  // nothing to resume: no folder either.
  if (!removed_ && rows_.empty()) remove_flat_folder(dir_);
}

void Checkpoint::load() {
  const std::string rows_path = dir_ + "/rows.jsonl";
  if (!exists(rows_path)) return;
  const std::string s = read_file(rows_path);
  size_t pos = 0, whole = 0;
  while (pos < s.size()) {
    const size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) break;  // cut short by SIGKILL: recomputed
    json j;
    try {
      j = json::parse(s.begin() + static_cast<std::ptrdiff_t>(pos), s.begin() + static_cast<std::ptrdiff_t>(nl));
    } catch (const json::exception&) {
      fail_as(ExitCode::kBadInput, rows_path, ": byte ", pos, ": not a checkpoint row; rerun without --resume");
    }
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("row"))
      fail_as(ExitCode::kBadInput, rows_path, ": byte ", pos, ": not a checkpoint row; rerun without --resume");
    const std::string key = j["key"].get<std::string>();
    if (j.contains("tensors")) {
      const std::string tf = j["tensors"].get<std::string>();
      if (tf.find('/') != std::string::npos || !exists(dir_ + "/" + tf))
        fail_as(ExitCode::kBadInput, rows_path, ": byte ", pos, ": tensor file '", tf, "' is missing; rerun without --resume");
      tensor_files_[key] = tf;
    }
    rows_[key] = std::move(j["row"]);
    pos = whole = nl + 1;
  }
  if (whole < s.size() && ::truncate(rows_path.c_str(), static_cast<off_t>(whole)) != 0)
    fail(rows_path, ": cannot cut its last, partial line (", std::strerror(errno), ")");
  n_resumed_ = rows_.size();
}

const json* Checkpoint::find(const std::string& key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : &it->second;
}

std::map<std::string, at::Tensor> Checkpoint::tensors(const std::string& key) const {
  auto it = tensor_files_.find(key);
  if (it == tensor_files_.end()) fail(dir_, ": row '", key, "' has no tensors");
  auto f = SafetensorsFile::open(dir_ + "/" + it->second);
  std::map<std::string, at::Tensor> out;
  for (const StTensor& t : f->tensors()) {
    at::Tensor x = at::empty(t.shape, at::kFloat);
    st_to_float(t, x.data_ptr<float>());
    out[t.name] = x;
  }
  return out;
}

const json& Checkpoint::add(const std::string& key, const json& row, const std::map<std::string, at::Tensor>& tensors) {
  json line = {{"key", key}, {"row", row}};
  if (!tensors.empty()) {
    const std::string tf = std::to_string(rows_.size()) + ".safetensors";
    SafetensorsWriter w;
    std::vector<at::Tensor> keep;  // the float copies must outlive write()
    for (const auto& [name, t] : tensors) {
      keep.push_back(t.detach().to(at::kCPU, at::kFloat).contiguous());
      w.add(name, StDtype::F32, keep.back().sizes().vec(), keep.back().data_ptr<float>());
    }
    w.write(dir_ + "/" + tf);
    line["tensors"] = tf;
    tensor_files_[key] = tf;
  }
  // Read back exactly as a resumed run would see it, so both paths aggregate the same values.
  const std::string text = data::to_json_line(line) + "\n";
  write_all(fd_, text, dir_ + "/rows.jsonl");
  json& stored = rows_[key];
  stored = json::parse(text)["row"];
  return stored;
}

void Checkpoint::check_interrupt(size_t total) const {
  if (!interrupted()) return;
  throw_interrupted(command_, str(rows_.size(), " finished rows of ", total, " kept in ", dir_,
                                  "; run the same command with --resume to continue"));
}

void Checkpoint::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  remove_flat_folder(dir_);
  removed_ = true;
}

}  // namespace rs::cli
