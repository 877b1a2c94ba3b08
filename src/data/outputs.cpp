// summary.json and examples.jsonl writers (see outputs.h).
#include "data/outputs.h"

#include "core/atomic_file.h"
#include "core/error.h"

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

}  // namespace rs::data
