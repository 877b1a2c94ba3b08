// The audit's page reuses each section's own charts: it reads the section's report.html (made
// by the command's report code, a well-formed XML page) and takes its <figure class="chart">
// elements, SVG and caption, as they are. No chart is drawn twice by two pieces of code.
#pragma once
#include <string>
#include <vector>

namespace rs::cli::audit {

struct Figure {
  std::string svg;      // "<svg ...>...</svg>", inserted as is
  std::string caption;  // plain text (XML entities decoded)
};

// The charts of one report.html in page order (empty when the file is missing).
std::vector<Figure> figures_of(const std::string& report_html_path);

// "&lt;" -> "<" and the other four XML entities, plus numeric ones (&#39;).
std::string unescape_xml(const std::string& s);

}  // namespace rs::cli::audit
