#include "report/table.h"

#include <cmath>

#include "core/error.h"
#include "report/svg.h"

namespace rs::report {

std::string Cell::format(int decimals) const {
  switch (kind_) {
    case Kind::Empty: return "";
    case Kind::Text: return text_;
    case Kind::Integer: return std::to_string(int_);
    case Kind::Real:
      if (std::isnan(real_)) return "n/a";
      if (std::isinf(real_)) return real_ > 0 ? "\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E";
      return decimals >= 0 ? fmt_fixed(real_, decimals) : fmt_value(real_, 4);
  }
  return "";
}

Table::Table(std::vector<std::string> columns)
    : columns_(std::move(columns)), decimals_(columns_.size(), -1) {}

Table& Table::row(std::vector<Cell> cells) {
  if (cells.size() != columns_.size())
    fail("table \"", caption, "\": row ", rows_.size() + 1, " has ", cells.size(),
         " cells, expected ", columns_.size(), " (one per column)");
  rows_.push_back(std::move(cells));
  return *this;
}

Table& Table::decimals(size_t column, int d) {
  if (column >= columns_.size())
    fail("table \"", caption, "\": column ", column, " out of range (", columns_.size(),
         " columns)");
  decimals_[column] = d;
  return *this;
}

std::string Table::html() const {
  // A column is right-aligned when every non-empty cell in it is a number.
  std::vector<bool> numeric(columns_.size(), true);
  for (const auto& r : rows_)
    for (size_t c = 0; c < r.size(); ++c)
      if (r[c].kind() != Cell::Kind::Empty && !r[c].numeric()) numeric[c] = false;
  std::string s = "<div class=\"table-wrap\"><table>";
  if (!caption.empty()) s += "<caption>" + escape_xml(caption) + "</caption>";
  s += "<thead><tr>";
  for (size_t c = 0; c < columns_.size(); ++c)
    s += std::string("<th") + (numeric[c] ? " class=\"num\"" : "") + ">" + escape_xml(columns_[c]) +
         "</th>";
  s += "</tr></thead><tbody>";
  for (const auto& r : rows_) {
    s += "<tr>";
    for (size_t c = 0; c < r.size(); ++c)
      s += std::string("<td") + (numeric[c] ? " class=\"num\"" : "") + ">" +
           escape_xml(r[c].format(decimals_[c])) + "</td>";
    s += "</tr>";
  }
  return s + "</tbody></table></div>";
}

}  // namespace rs::report
