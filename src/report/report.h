// One self-contained HTML page per analysis: inline CSS, inline SVG charts, no scripts, no
// network, no external files; it opens offline and survives being mailed around. Also a
// well-formed XML document, so tests (and tools) can parse it strictly.
//
//   rs::report::Report r("Spectral signatures: SmolLM2-135M on miniF2F");
//   r.meta("model", path).verdict("HFER separates valid from invalid proofs (AUROC 0.91)...");
//   r.section("Per-layer separation").text("...").chart(heat_map).table(top_heads);
//   r.write(out_dir + "/report.html");   // atomic
//
// The verdict box always sits at the top, whenever verdict() is called.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/chart.h"
#include "report/table.h"

namespace rs::report {

enum class Tone { Neutral, Positive, Negative, Warning };

class Report {
 public:
  explicit Report(std::string title);

  Report& meta(std::string key, std::string value);  // small key/value lines under the title
  Report& verdict(std::string text, Tone tone = Tone::Neutral);
  Report& section(std::string heading);     // <h2>, listed in the contents
  Report& subsection(std::string heading);  // <h3>
  Report& text(std::string paragraph);      // escaped; blank lines start new paragraphs
  Report& code(std::string preformatted);   // monospace block (commands, prompts)
  Report& chart(const Chart& chart, std::string caption = "");
  // A pre-rendered SVG string (trusted: inserted as is) with an optional caption.
  Report& chart(std::string svg, std::string caption = "");
  Report& table(const Table& table);

  std::string html() const;
  // What the page contains, for summary.json: sections, charts (kind, title, marks, notes),
  // tables (caption, rows, columns), in page order.
  nlohmann::json outline() const;
  void write(const std::string& path) const;  // atomic (core/atomic_file.h)

 private:
  struct Item {
    std::string html;
    nlohmann::json info;
  };
  std::string title_;
  std::vector<std::pair<std::string, std::string>> meta_;
  std::vector<std::pair<std::string, Tone>> verdicts_;
  std::vector<Item> items_;
  size_t sections_ = 0;
};

}  // namespace rs::report
