// Helpers shared by the generator tests (header-only; not a test binary itself).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/gen_common.h"
#include "data/schema.h"

namespace gen_test {

// Generated rows as plain nlohmann::json (what the readers and the schema checks take).
inline std::vector<nlohmann::json> plain(const std::vector<rs::data::GenRow>& rows) {
  std::vector<nlohmann::json> out;
  for (const auto& r : rows) out.push_back(nlohmann::json::parse(r.dump()));
  return out;
}

// Every row must satisfy the named schema of data/schema.h; returns the first problem or "".
inline std::string schema_problem(const std::vector<rs::data::GenRow>& rows, const std::string& schema) {
  const auto& s = rs::data::get_schema(schema);
  auto p = plain(rows);
  for (size_t i = 0; i < p.size(); ++i) {
    std::string why = rs::data::row_problem(s, p[i], "<generated>", i + 1);
    if (!why.empty()) return why;
  }
  return "";
}

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = s.find('\n'); nl != std::string::npos; nl = s.find('\n', start)) {
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

}  // namespace gen_test
