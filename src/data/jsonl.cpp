// Streaming JSONL reader (see jsonl.h for the conventions).
#include "core/text.h"
#include "data/jsonl.h"

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace rs::data {

using nlohmann::json;

namespace {

constexpr size_t kChunk = 1 << 20;   // bytes per fread
constexpr int kMaxDepth = 256;       // JSON nesting we accept; deeper input is hostile

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t') return false;
  return true;
}

// nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error while parsing ..."; keep the part after the position, we give our own.
std::string parse_error_detail(const json::parse_error& e) {
  std::string msg = e.what();
  size_t p = msg.find("column ");
  if (p != std::string::npos) {
    size_t colon = msg.find(": ", p);
    if (colon != std::string::npos) return msg.substr(colon + 2);
  }
  return msg;
}

std::string value_key(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

// UTF-8 per RFC 3629 section 4 (the byte-sequence grammar): 1-4 byte sequences, no overlong
// encodings, no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;        // no overlong 3-byte forms
      else if (c == 0xED) hi = 0x9F;   // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;        // no overlong 4-byte forms
      else if (c == 0xF4) hi = 0x8F;   // nothing above U+10FFFF
    } else {
      return i;  // 0x80..0xC1 (continuation or overlong lead) or 0xF5..0xFF
    }
    if (i + 1 >= n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (i + k >= n || (p[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

JsonlReader::JsonlReader(const std::string& path, JsonlOptions opts) : path_(path), opts_(opts) {
  fp_ = std::fopen(path.c_str(), "rb");
  if (!fp_) fail_as(ExitCode::kBadInput, path, ": cannot open for reading (", std::strerror(errno), ")");
}

JsonlReader JsonlReader::from_string(std::string contents, const std::string& name,
                                     JsonlOptions opts) {
  JsonlReader r;
  r.path_ = name;
  r.opts_ = opts;
  r.buf_ = std::move(contents);
  r.end_ = r.buf_.size();
  r.eof_ = true;
  return r;
}

JsonlReader::JsonlReader(JsonlReader&& o) noexcept { *this = std::move(o); }

JsonlReader& JsonlReader::operator=(JsonlReader&& o) noexcept {
  if (this != &o) {
    if (fp_) std::fclose(fp_);
    path_ = std::move(o.path_);
    opts_ = o.opts_;
    fp_ = o.fp_;
    o.fp_ = nullptr;
    buf_ = std::move(o.buf_);
    pos_ = o.pos_;
    end_ = o.end_;
    eof_ = o.eof_;
    line_ = o.line_;
    consumed_ = o.consumed_;
    seen_ids_ = std::move(o.seen_ids_);
  }
  return *this;
}

JsonlReader::~JsonlReader() {
  if (fp_) std::fclose(fp_);
}

bool JsonlReader::fill() {
  if (eof_ || !fp_) {
    eof_ = true;
    return false;
  }
  // Keep the unread tail at the front, then read a chunk after it.
  if (pos_ > 0) {
    std::memmove(&buf_[0], buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() < end_ + kChunk) buf_.resize(end_ + kChunk);
  size_t got = std::fread(&buf_[end_], 1, kChunk, fp_);
  if (got == 0) {
    if (std::ferror(fp_)) fail(path_, ": read error after ", consumed_, " bytes");
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

bool JsonlReader::next_line(std::string_view& out) {
  size_t scanned = 0;  // bytes after pos_ already known to hold no '\n'
  size_t len = 0, advance = 0;
  for (;;) {
    const char* start = buf_.data() + pos_;
    size_t avail = end_ - pos_;
    const void* nl =
        avail > scanned ? std::memchr(start + scanned, '\n', avail - scanned) : nullptr;
    if (nl) {
      len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      advance = len + 1;
      break;
    }
    if (avail > opts_.max_line_bytes) skip_long_line();  // throws
    scanned = avail;
    if (!fill()) {  // end of file: the last line may lack its '\n'
      if (end_ == pos_) return false;
      len = advance = end_ - pos_;
      break;
    }
  }
  const char* line_start = buf_.data() + pos_;
  pos_ += advance;
  consumed_ += advance;
  ++line_;
  if (len > 0 && line_start[len - 1] == '\r') --len;
  out = std::string_view(line_start, len);
  if (line_ == 1 && out.size() >= 3 && std::memcmp(out.data(), "\xEF\xBB\xBF", 3) == 0)
    out.remove_prefix(3);  // byte order mark
  return true;
}

void JsonlReader::skip_long_line() {
  // Consume the rest of the over-long line so that next() can continue after the error.
  ++line_;
  for (;;) {
    const void* q = std::memchr(buf_.data() + pos_, '\n', end_ - pos_);
    if (q) {
      size_t k = static_cast<size_t>(static_cast<const char*>(q) - (buf_.data() + pos_));
      consumed_ += k + 1;
      pos_ += k + 1;
      break;
    }
    consumed_ += end_ - pos_;
    pos_ = end_;
    if (!fill()) break;
  }
  fail_as(ExitCode::kBadInput, path_, ":", line_, ": line longer than the limit of ", opts_.max_line_bytes, " bytes");
}

bool JsonlReader::next(JsonlRow& row) {
  std::string_view line;
  for (;;) {
    if (!next_line(line)) return false;
    if (!is_blank(line)) break;
  }
  if (rs::json_nesting_depth(line) > kMaxDepth)
    fail_as(ExitCode::kBadInput, path_, ":", line_, ": JSON nested deeper than ", kMaxDepth, " levels");
  // The JSON parser already refuses ill-formed UTF-8 (inside strings it checks the well-formed
  // byte sequences of Unicode Table 3-7; outside strings any non-ASCII byte is a syntax error),
  // so the separate UTF-8 scan runs only on failure, to name the byte column precisely.
  try {
    row.value = json::parse(line.begin(), line.end());
  } catch (const json::parse_error& e) {
    size_t bad = find_invalid_utf8(line);
    if (bad != std::string_view::npos)
      fail_as(ExitCode::kBadInput, path_, ":", line_, ": invalid UTF-8 at byte column ", bad + 1, " (byte 0x", std::hex,
           static_cast<unsigned>(static_cast<unsigned char>(line[bad])), std::dec, ")");
    fail_as(ExitCode::kBadInput, path_, ":", line_, ": malformed JSON at byte column ", e.byte, ": ",
         parse_error_detail(e));
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number too large
    std::string msg = e.what();
    size_t p = msg.find("] ");
    fail_as(ExitCode::kBadInput, path_, ":", line_, ": malformed JSON: ", p == std::string::npos ? msg : msg.substr(p + 2));
  }
  row.line = line_;
  if (const Schema* schema = opts_.schema) {
    validate_row(*schema, row.value, path_, line_);
    if (!schema->unique_field.empty()) {
      auto it = row.value.find(schema->unique_field);
      if (it != row.value.end()) {
        auto [pos, inserted] = seen_ids_.emplace(value_key(*it), line_);
        if (!inserted)
          fail_as(ExitCode::kBadInput, path_, ":", line_, ": field '", schema->unique_field, "': duplicate value ",
               it->dump(), " (first on line ", pos->second, ")");
      }
    }
  }
  return true;
}

std::vector<JsonlRow> read_jsonl(const std::string& path, const Schema* schema) {
  JsonlOptions opts;
  opts.schema = schema;
  JsonlReader reader(path, opts);
  std::vector<JsonlRow> rows;
  JsonlRow row;
  while (reader.next(row)) rows.push_back(std::move(row));
  return rows;
}

std::vector<JsonlRow> read_jsonl(const std::string& path, const std::string& schema_name) {
  return read_jsonl(path, &get_schema(schema_name));
}

json JsonlReport::to_json() const {
  json j;
  j["file"] = path;
  j["schema"] = schema;
  j["lines"] = lines;
  j["rows"] = rows;
  j["bytes"] = bytes;
  j["n_errors"] = n_errors;
  // The messages quote the bad line, whose bytes may not be UTF-8; JSON text must be (dump()
  // would throw), so each invalid byte becomes U+FFFD. Found by fuzz_jsonl.
  j["errors"] = json::array();
  for (std::string e : errors) {
    for (size_t at; (at = find_invalid_utf8(e)) != std::string::npos;) e.replace(at, 1, "\xEF\xBF\xBD");
    j["errors"].push_back(std::move(e));
  }
  j["counts"] = json::object();
  for (const auto& [field, tally] : counts) j["counts"][field] = tally;
  return j;
}

JsonlReport check_jsonl(const std::string& path, const Schema& schema, size_t max_errors) {
  JsonlReport rep;
  rep.path = path;
  rep.schema = schema.name;
  JsonlOptions opts;
  opts.schema = &schema;
  JsonlReader reader(path, opts);
  JsonlRow row;
  for (;;) {
    try {
      if (!reader.next(row)) break;
    } catch (const Error& e) {
      ++rep.n_errors;
      if (rep.errors.size() < max_errors) rep.errors.push_back(e.what());
      continue;
    }
    ++rep.rows;
    for (const auto& field : schema.count_by) {
      auto it = row.value.find(field);
      if (it != row.value.end()) ++rep.counts[field][value_key(*it)];
    }
  }
  rep.lines = reader.line();
  rep.bytes = reader.bytes_read();
  return rep;
}

}  // namespace rs::data
