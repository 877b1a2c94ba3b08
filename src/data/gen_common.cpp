// Shared generator helpers (see gen_common.h).
#include "data/gen_common.h"

#include <cctype>

#include "core/atomic_file.h"
#include "core/error.h"

namespace rs::data {

std::string gen_rows_to_jsonl(const std::vector<GenRow>& rows) {
  std::string out;
  for (const auto& row : rows) {
    // strict: generated text is ours and must already be valid UTF-8.
    out += row.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
    out += '\n';
  }
  return out;
}

void write_gen_rows(const std::string& path, const std::vector<GenRow>& rows) {
  const std::string bytes = gen_rows_to_jsonl(rows);  // may throw: before the file exists
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

const char* indefinite_article(std::string_view word) {
  if (word.empty()) return "a";
  switch (std::tolower(static_cast<unsigned char>(word[0]))) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return "an";
    default: return "a";
  }
}

std::string capitalize(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace rs::data
