// The HTML page: well-formed (parsed strictly as XML), self-contained (no scripts, no external
// references), verdict first, escaped text, formatted tables, atomic writes; and the demo page
// with every chart type, deterministic per seed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "chart_probe.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "report/demo.h"
#include "report/report.h"

#include "../temp_dir.h"

using namespace rs::report;

namespace {

std::string temp_dir() { return rs_test::temp_dir("rs_report_"); }

// Nothing the page could fetch: no scripts, no src/href to other documents, no url(...), and
// "http" only as the SVG namespace name.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  size_t pos = 0;
  while ((pos = html.find("http", pos)) != std::string::npos) {
    EXPECT_EQ(html.compare(pos, 26, "http://www.w3.org/2000/svg"), 0) << html.substr(pos, 60);
    pos += 4;
  }
  pos = 0;
  while ((pos = html.find("href=\"", pos)) != std::string::npos) {
    EXPECT_EQ(html[pos + 6], '#') << "link to another document: " << html.substr(pos, 40);
    pos += 6;
  }
}

const xmlcheck::Node* first(const xmlcheck::Node& root, const std::string& name,
                            const std::string& cls = "") {
  auto v = xmlcheck::by_name(root, name, cls);
  return v.empty() ? nullptr : v[0];
}

TEST(Report, WellFormedVerdictFirstAndEscaped) {
  Report r("Spectral <signatures> & more");
  r.meta("model", "smol & co");
  r.section("First");
  r.text("A <b>bold</b> claim.\n\nSecond paragraph.");
  r.verdict("It works & it's significant", Tone::Positive);  // called late, shown first
  LineChart c;
  c.title = "line";
  c.add("a", {1, 2}, {3, 4});
  r.chart(c, "caption <i>");
  r.section("Second");
  Table t({"name", "value", "count"});
  t.caption = "numbers";
  t.decimals(1, 2);
  t.row({"x<y", 0.12345, 7}).row({"nan", std::nan(""), -3});
  r.table(t);
  r.code("reasonscope spectral --model <m>");
  std::string html = r.html();
  expect_self_contained(html);
  auto root = xmlcheck::parse(html);  // throws on any well-formedness error
  EXPECT_EQ(root->name, "html");
  EXPECT_EQ(first(*root, "title")->text, "Spectral <signatures> & more");
  EXPECT_EQ(first(*root, "h1")->text, "Spectral <signatures> & more");
  EXPECT_EQ(first(*root, "dd")->text, "smol & co");

  // Document order: verdict box before the first section heading.
  std::vector<const xmlcheck::Node*> order;
  xmlcheck::collect(*root, [](const xmlcheck::Node& n) {
    return (n.name == "section" && n.has_class("verdict")) || (n.name == "h2" && n.attr("id"));
  }, &order);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_TRUE(order[0]->has_class("verdict"));
  EXPECT_TRUE(order[0]->has_class("tone-positive"));
  EXPECT_EQ(first(*order[0], "p")->text, "It works & it's significant");

  // Text: escaped, blank line = new paragraph.
  std::vector<std::string> paras;
  for (auto* p : xmlcheck::by_name(*root, "p")) paras.push_back(p->text);
  EXPECT_NE(std::find(paras.begin(), paras.end(), "A <b>bold</b> claim."), paras.end());
  EXPECT_NE(std::find(paras.begin(), paras.end(), "Second paragraph."), paras.end());
  // Contents with in-page links for two sections.
  auto links = xmlcheck::by_name(*first(*root, "nav"), "a");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(*links[0]->attr("href"), "#s1");
  EXPECT_EQ(links[1]->text, "Second");
  // Chart inlined with its caption.
  auto fig = first(*root, "figure", "chart");
  ASSERT_NE(fig, nullptr);
  EXPECT_NE(first(*fig, "svg"), nullptr);
  EXPECT_EQ(first(*fig, "figcaption")->text, "caption <i>");
  // Table: caption, header, numbers right-aligned and formatted per column.
  auto table = first(*root, "table");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(first(*table, "caption")->text, "numbers");
  auto tds = xmlcheck::by_name(*table, "td");
  ASSERT_EQ(tds.size(), 6u);
  EXPECT_EQ(tds[0]->text, "x<y");
  EXPECT_EQ(tds[0]->attr("class"), nullptr);
  EXPECT_EQ(tds[1]->text, "0.12");
  EXPECT_EQ(*tds[1]->attr("class"), "num");
  EXPECT_EQ(tds[2]->text, "7");
  EXPECT_EQ(tds[4]->text, "n/a");
  EXPECT_EQ(tds[5]->text, "-3");
  EXPECT_EQ(first(*root, "pre")->text, "reasonscope spectral --model <m>");
}

TEST(Report, OutlineListsContentInOrder) {
  Report r("t");
  r.verdict("v");
  r.section("S");
  HeatMap h;
  h.title = "hm";
  h.set(2, 3, {1, 2, 3, 4, 5, std::nan("")});
  r.chart(h);
  Table t({"a"});
  t.row({1}).row({2});
  r.table(t);
  nlohmann::json o = r.outline();
  EXPECT_EQ(o["title"], "t");
  EXPECT_EQ(o["verdict"][0], "v");
  ASSERT_EQ(o["items"].size(), 3u);
  EXPECT_EQ(o["items"][0]["type"], "section");
  EXPECT_EQ(o["items"][1]["kind"], "heatmap");
  EXPECT_EQ(o["items"][1]["marks"], 6);
  EXPECT_EQ(o["items"][1]["notes"].size(), 1u);
  EXPECT_EQ(o["items"][2]["rows"], 2);
}

TEST(Report, TableRowOfWrongWidthThrows) {
  Table t({"a", "b"});
  t.caption = "tops";
  try {
    t.row({1, 2, 3});
    FAIL();
  } catch (const rs::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("tops"), std::string::npos);
    EXPECT_NE(m.find("row 1 has 3 cells, expected 2"), std::string::npos) << m;
  }
  EXPECT_THROW(t.decimals(5, 1), rs::Error);
}

TEST(Report, WriteIsAtomicAndComplete) {
  std::string dir = temp_dir();
  Report r("atomic");
  r.text("hello");
  r.write(dir + "/report.html");
  std::string back = rs::read_file(dir + "/report.html");
  EXPECT_EQ(back, r.html());
  // No temporary file left next to it.
  std::string listing;
  FILE* p = ::popen(("ls -A " + dir).c_str(), "r");
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) listing += buf;
  ::pclose(p);
  EXPECT_EQ(listing, "report.html\n");
  EXPECT_THROW(r.write("/nonexistent_rs_dir/report.html"), rs::Error);
}

TEST(Demo, EveryChartTypeDrawnWithLabelsAndMarks) {
  Report r = make_demo_report(7);
  std::string html = r.html();
  expect_self_contained(html);
  auto root = xmlcheck::parse(html);
  auto svgs = xmlcheck::by_name(*root, "svg");
  std::set<std::string> kinds;
  for (const auto* svg : svgs) {
    std::string cls = *svg->attr("class");
    kinds.insert(cls.substr(cls.find("rs-", 9) + 3));
    // Every chart: a title, and its data marks.
    EXPECT_FALSE(svg->title_text().empty());
    EXPECT_EQ(probe::texts(*svg, "chart-title").size(), 1u);
    EXPECT_TRUE(probe::axis(*svg, "x-axis") && probe::axis(*svg, "y-axis")) << cls;
    EXPECT_GE(probe::texts(*probe::axis(*svg, "x-axis"), "tick-label").size(), 2u) << cls;
    EXPECT_GE(probe::texts(*probe::axis(*svg, "y-axis"), "tick-label").size(), 2u) << cls;
    EXPECT_GE(probe::texts(*svg, "axis-label").size(), 1u) << cls;
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"line", "heatmap", "histogram", "roc", "scatter", "bar"}));
  // Outline: every chart has marks; the edge-case charts carry notes.
  nlohmann::json o = r.outline();
  size_t charts = 0, with_notes = 0;
  for (const auto& it : o["items"]) {
    if (it["type"] != "chart") continue;
    ++charts;
    EXPECT_GT(it["marks"].get<size_t>(), 0u) << it["title"];
    if (!it["notes"].empty()) ++with_notes;
  }
  EXPECT_EQ(charts, svgs.size());
  EXPECT_GE(charts, 10u);
  EXPECT_EQ(with_notes, 2u);
  // Legends on multi-series charts; verdict at the top; a table.
  EXPECT_GE(xmlcheck::by_class(*root, "legend").size(), 6u);
  EXPECT_NE(first(*root, "section", "verdict"), nullptr);
  EXPECT_NE(first(*root, "table"), nullptr);
}

TEST(Demo, DeterministicPerSeed) {
  EXPECT_EQ(make_demo_report(3).html(), make_demo_report(3).html());
  EXPECT_NE(make_demo_report(3).html(), make_demo_report(4).html());
  nlohmann::json s = demo_summary(make_demo_report(3), 3);
  EXPECT_EQ(s["seed"], 3);
  EXPECT_EQ(s["command"], "report demo");
  EXPECT_EQ(s["report"], make_demo_report(3).outline());
}

}  // namespace
