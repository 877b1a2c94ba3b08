// The files every analysis leaves in --out DIR (ARCHITECTURE.md, "Outputs"): summary.json
// (pretty JSON, stable keys) and examples.jsonl (one object per line). Both appear atomically
// through core/atomic_file.h: written under a temporary name, renamed into place on commit, and
// removed if the writer is destroyed before commit() (an error or interrupted run leaves no
// partial file behind).
//
// Strings that are not valid UTF-8 (e.g. a byte-level BPE piece cut in the middle of a
// character) are written with U+FFFD in place of the bad bytes rather than failing the run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs {
class AtomicFile;
}

namespace rs::data {

// One JSON value on one line (no newline added), invalid UTF-8 replaced.
std::string to_json_line(const nlohmann::json& v);

// summary.json: indented by 2, trailing newline, written atomically.
void write_summary_json(const std::string& path, const nlohmann::json& summary);

// examples.jsonl written row by row; nothing appears at `path` until commit().
class JsonlWriter {
 public:
  explicit JsonlWriter(const std::string& path);  // throws rs::Error naming the path
  ~JsonlWriter();                                 // without commit(): temporary removed
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const nlohmann::json& row);  // row must be an object (rs::Error otherwise)
  void commit();
  uint64_t rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<AtomicFile> file_;
  std::string pending_;  // buffered lines, flushed in large writes
  uint64_t rows_ = 0;
  void flush();
};

// All rows at once.
void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& rows);

// Layers in outputs follow core/layers.h: a block index, or "embed" for the embeddings.
nlohmann::json layer_json(int layer);
nlohmann::json layers_json(const std::vector<int>& layers);
// Every summary (and read-back file) that names layers states the convention once, at top level:
// "layer_convention": "block", "layer_convention_version": 2.
void stamp_layer_convention(nlohmann::json& summary);
// The convention a file was written with: its version, or 1 (before the stamp existed) when it
// has none. Throws rs::Error naming `where` for a stamp this build does not know.
int layer_convention_version(const nlohmann::json& j, const std::string& where);

}  // namespace rs::data
