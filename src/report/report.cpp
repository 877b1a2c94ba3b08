#include "report/report.h"

#include "core/atomic_file.h"
#include "report/svg.h"

namespace rs::report {

namespace {

// No external fonts or resources; colours match the chart module. Kept free of '<' and '&'
// so the page stays well-formed XML.
constexpr const char* kCss = R"css(
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d232b;
  font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; }
main { max-width: 1440px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { font-size: 26px; margin: 4px 0 6px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 14px;
  font-size: 13px; color: #4a5563; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.verdict { border-left: 6px solid #0072b2; background: #e8f1f8; padding: 12px 18px;
  margin: 12px 0 22px; border-radius: 4px; }
.verdict.tone-positive { border-color: #009e73; background: #e6f5f0; }
.verdict.tone-negative { border-color: #d55e00; background: #fbece3; }
.verdict.tone-warning { border-color: #e69f00; background: #fdf4e1; }
.verdict h2 { font-size: 15px; text-transform: uppercase; letter-spacing: 0.06em; margin: 0 0 4px;
  color: #333; border: none; padding: 0; }
.verdict p { margin: 4px 0; font-size: 16px; }
nav.contents { font-size: 14px; margin: 0 0 18px; }
nav.contents ol { margin: 4px 0; padding-left: 22px; columns: 2; }
h2 { font-size: 21px; margin: 30px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d5d9de; }
h3 { font-size: 17px; margin: 20px 0 6px; }
p { max-width: 95ch; }
pre { background: #eef0f3; padding: 10px 14px; border-radius: 4px; overflow-x: auto;
  font-size: 13px; }
figure.chart { display: inline-block; vertical-align: top; margin: 8px 14px 18px 0;
  background: #ffffff; border: 1px solid #dde1e6; border-radius: 6px; padding: 6px;
  max-width: 100%; box-sizing: border-box; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #4a5563; max-width: 620px; padding: 4px 6px 2px; }
.table-wrap { overflow-x: auto; margin: 8px 0 18px; }
table { border-collapse: collapse; background: #ffffff; font-size: 14px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #dde1e6; padding: 4px 10px; text-align: left; }
th { background: #eef1f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #f8f9fb; }
footer { margin-top: 36px; font-size: 12px; color: #6b7480; }
)css";

const char* tone_class(Tone t) {
  switch (t) {
    case Tone::Positive: return "tone-positive";
    case Tone::Negative: return "tone-negative";
    case Tone::Warning: return "tone-warning";
    default: return "tone-neutral";
  }
}

std::string paragraphs(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find("\n\n", i);
    if (j == std::string::npos) j = text.size();
    std::string para = text.substr(i, j - i);
    if (para.find_first_not_of(" \n\t") != std::string::npos)
      out += "<p>" + escape_xml(para) + "</p>";
    i = j + 2;
  }
  return out;
}

}  // namespace

Report::Report(std::string title) : title_(std::move(title)) {}

Report& Report::meta(std::string key, std::string value) {
  meta_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Report& Report::verdict(std::string text, Tone tone) {
  verdicts_.emplace_back(std::move(text), tone);
  return *this;
}

Report& Report::section(std::string heading) {
  ++sections_;
  std::string id = "s" + std::to_string(sections_);
  items_.push_back({"<h2" + attr("id", id) + ">" + escape_xml(heading) + "</h2>",
                    {{"type", "section"}, {"heading", heading}, {"id", id}}});
  return *this;
}

Report& Report::subsection(std::string heading) {
  items_.push_back({"<h3>" + escape_xml(heading) + "</h3>",
                    {{"type", "subsection"}, {"heading", heading}}});
  return *this;
}

Report& Report::text(std::string paragraph) {
  items_.push_back({paragraphs(paragraph), {{"type", "text"}}});
  return *this;
}

Report& Report::code(std::string preformatted) {
  items_.push_back({"<pre>" + escape_xml(preformatted) + "</pre>", {{"type", "code"}}});
  return *this;
}

Report& Report::chart(const Chart& c, std::string caption) {
  Rendered r = c.render();
  std::string h = "<figure class=\"chart\">" + r.svg;
  if (!caption.empty()) h += "<figcaption>" + escape_xml(caption) + "</figcaption>";
  h += "</figure>";
  items_.push_back({h,
                    {{"type", "chart"},
                     {"kind", c.kind()},
                     {"title", c.title},
                     {"marks", r.marks},
                     {"notes", r.notes}}});
  return *this;
}

Report& Report::chart(std::string svg, std::string caption) {
  std::string h = "<figure class=\"chart\">" + svg;
  if (!caption.empty()) h += "<figcaption>" + escape_xml(caption) + "</figcaption>";
  h += "</figure>";
  items_.push_back({h, {{"type", "chart"}, {"kind", "svg"}}});
  return *this;
}

Report& Report::table(const Table& t) {
  items_.push_back({t.html(),
                    {{"type", "table"},
                     {"caption", t.caption},
                     {"rows", t.num_rows()},
                     {"columns", t.num_columns()}}});
  return *this;
}

std::string Report::html() const {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>" +
      escape_xml(title_) + "</title><style>" + kCss + "</style></head><body><main><header><h1>" +
      escape_xml(title_) + "</h1>";
  if (!meta_.empty()) {
    s += "<dl class=\"meta\">";
    for (const auto& [k, v] : meta_) s += "<dt>" + escape_xml(k) + "</dt><dd>" + escape_xml(v) + "</dd>";
    s += "</dl>";
  }
  s += "</header>";
  for (const auto& [text, tone] : verdicts_) {
    s += std::string("<section class=\"verdict ") + tone_class(tone) + "\"><h2>Verdict</h2>" +
         paragraphs(text) + "</section>";
  }
  if (sections_ >= 2) {
    s += "<nav class=\"contents\"><strong>Contents</strong><ol>";
    for (const auto& it : items_)
      if (it.info["type"] == "section")
        s += "<li><a" + attr("href", "#" + it.info["id"].get<std::string>()) + ">" +
             escape_xml(it.info["heading"].get<std::string>()) + "</a></li>";
    s += "</ol></nav>";
  }
  for (const auto& it : items_) s += it.html + "\n";
  s += "<footer>Generated by reasonscope. Self-contained: no scripts, no network, no external "
       "files. Hover over chart marks for exact values.</footer></main></body></html>\n";
  return s;
}

nlohmann::json Report::outline() const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& it : items_) items.push_back(it.info);
  nlohmann::json v = nlohmann::json::array();
  for (const auto& [text, tone] : verdicts_) v.push_back(text);
  return {{"title", title_}, {"verdict", v}, {"items", items}};
}

void Report::write(const std::string& path) const { write_file_atomic(path, html()); }

}  // namespace rs::report
