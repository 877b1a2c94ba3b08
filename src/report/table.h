// Tables for the report: rows of cells (text, integers, reals) rendered as an HTML table with
// numbers right-aligned and formatted per column.
//
//   rs::report::Table t({"layer", "head", "accuracy"});
//   t.decimals(2, 3);
//   t.row({3, 4, 0.9123});
#pragma once
#include <string>
#include <type_traits>
#include <vector>

namespace rs::report {

class Cell {
 public:
  enum class Kind { Empty, Text, Integer, Real };
  Cell() = default;
  Cell(const char* s) : kind_(Kind::Text), text_(s) {}
  Cell(std::string s) : kind_(Kind::Text), text_(std::move(s)) {}
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Cell(T v) : kind_(Kind::Integer), int_(static_cast<long long>(v)) {}
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Cell(T v) : kind_(Kind::Real), real_(static_cast<double>(v)) {}
  Cell(bool b) : kind_(Kind::Text), text_(b ? "yes" : "no") {}

  Kind kind() const { return kind_; }
  bool numeric() const { return kind_ == Kind::Integer || kind_ == Kind::Real; }
  // Display text: reals with `decimals` fixed decimals (< 0: 4 significant digits), NaN as "n/a".
  std::string format(int decimals) const;

 private:
  Kind kind_ = Kind::Empty;
  std::string text_;
  long long int_ = 0;
  double real_ = 0;
};

class Table {
 public:
  explicit Table(std::vector<std::string> columns);
  std::string caption;

  // One cell per column; throws rs::Error naming the table and row otherwise.
  Table& row(std::vector<Cell> cells);
  // Fixed decimals for the real numbers of one column.
  Table& decimals(size_t column, int decimals);

  size_t num_rows() const { return rows_.size(); }
  size_t num_columns() const { return columns_.size(); }
  std::string html() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
  std::vector<int> decimals_;
};

}  // namespace rs::report
