// summary.json and examples.jsonl writers (see outputs.h).
#include "data/outputs.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/layers.h"

namespace rs::data {

using nlohmann::json;

namespace {
constexpr size_t kFlushBytes = 1 << 20;
}

std::string to_json_line(const json& v) {
  // error_handler_t::replace: invalid UTF-8 in a string becomes U+FFFD instead of throwing.
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

void write_summary_json(const std::string& path, const json& summary) {
  std::string text = summary.dump(2, ' ', false, json::error_handler_t::replace);
  text += '\n';
  write_file_atomic(path, text);
}

JsonlWriter::JsonlWriter(const std::string& path)
    : path_(path), file_(std::make_unique<AtomicFile>(path)) {}

JsonlWriter::~JsonlWriter() = default;  // AtomicFile removes the temporary if not committed

void JsonlWriter::write(const json& row) {
  if (!file_) fail(path_, ": write after commit");
  if (!row.is_object())
    fail(path_, ": row ", rows_ + 1, ": expected a JSON object, found ", row.type_name());
  pending_ += to_json_line(row);
  pending_ += '\n';
  ++rows_;
  if (pending_.size() >= kFlushBytes) flush();
}

void JsonlWriter::flush() {
  file_->write(pending_);
  pending_.clear();
}

void JsonlWriter::commit() {
  if (!file_) return;
  flush();
  file_->commit();
  file_.reset();
}

void write_jsonl(const std::string& path, const std::vector<json>& rows) {
  JsonlWriter w(path);
  for (const auto& r : rows) w.write(r);
  w.commit();
}

json layer_json(int layer) { return layer == kEmbedLayer ? json("embed") : json(layer); }

json layers_json(const std::vector<int>& layers) {
  json out = json::array();
  for (int l : layers) out.push_back(layer_json(l));
  return out;
}

void stamp_layer_convention(json& summary) {
  summary["layer_convention"] = kLayerConvention;
  summary["layer_convention_version"] = kLayerConventionVersion;
}

int layer_convention_version(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("layer_convention_version")) return 1;
  const json& v = j["layer_convention_version"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kLayerConventionVersion ||
      !j.contains("layer_convention") || j["layer_convention"] != kLayerConvention)
    fail_as(ExitCode::kBadInput, where, ": layer_convention ", j.value("layer_convention", json()).dump(), " version ",
            v.dump(), " is not one this build reads (it writes \"", kLayerConvention, "\" version ",
            kLayerConventionVersion, "); rerun the command that wrote it");
  return static_cast<int>(v.get<int64_t>());
}

}  // namespace rs::data
