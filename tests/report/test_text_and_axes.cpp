// Building blocks: XML escaping, number formatting, nice ticks, log ticks, colour maps, and a
// self-test of the strict XML checker the other report tests rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "report/axis.h"
#include "report/palette.h"
#include "report/svg.h"
#include "xml_check.h"

using namespace rs::report;

namespace {

TEST(EscapeXml, SpecialCharacters) {
  EXPECT_EQ(escape_xml("a<b>&\"c'd"), "a&lt;b&gt;&amp;&quot;c&#39;d");
  EXPECT_EQ(escape_xml("&amp;"), "&amp;amp;");  // already-escaped text is text, escaped again
  EXPECT_EQ(escape_xml("plain text 123"), "plain text 123");
  EXPECT_EQ(escape_xml(""), "");
}

TEST(EscapeXml, KeepsValidUtf8) {
  std::string s = "caf\xC3\xA9 \xE2\x88\x9E \xF0\x9F\x98\x80 \xE6\x97\xA5";  // é ∞ 😀 日
  EXPECT_EQ(escape_xml(s), s);
}

TEST(EscapeXml, ReplacesInvalidUtf8AndForbiddenCharacters) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_xml("a\xFFz"), "a" + r + "z");              // invalid lead byte
  EXPECT_EQ(escape_xml("\xC0\x80"), r + r);                    // overlong NUL
  EXPECT_EQ(escape_xml("\xED\xA0\x80"), r + r + r);            // surrogate U+D800
  EXPECT_EQ(escape_xml("ab\xE2\x88"), "ab" + r + r);           // truncated sequence
  EXPECT_EQ(escape_xml(std::string("x\0y", 3)), "x" + r + "y");  // NUL
  EXPECT_EQ(escape_xml("a\x01\x1F"), "a" + r + r);             // C0 controls
  EXPECT_EQ(escape_xml("\xEF\xBF\xBE"), r);                    // U+FFFE
  EXPECT_EQ(escape_xml("tab\tnl\ncr\r"), "tab\tnl\ncr\r");     // allowed whitespace
  // Whatever goes in, the result parses inside an element and round-trips valid text.
  std::mt19937_64 g(1);
  for (int i = 0; i < 200; ++i) {
    std::string junk;
    for (int k = 0; k < 40; ++k) junk += static_cast<char>(g() & 0xFF);
    auto node = xmlcheck::parse("<t a=\"" + escape_xml(junk) + "\">" + escape_xml(junk) + "</t>");
    EXPECT_EQ(node->text, *node->attr("a"));
  }
}

TEST(Format, Pixels) {
  EXPECT_EQ(fmt_px(12.5), "12.5");
  EXPECT_EQ(fmt_px(3.0), "3");
  EXPECT_EQ(fmt_px(-0.001), "0");
  EXPECT_EQ(fmt_px(1.23456), "1.23");
  EXPECT_EQ(fmt_px(NAN), "0");
}

TEST(Format, Values) {
  EXPECT_EQ(fmt_value(0.912345), "0.9123");
  EXPECT_EQ(fmt_value(1234.5678), "1235");
  EXPECT_EQ(fmt_value(0), "0");
  EXPECT_EQ(fmt_value(2.5e-7), "2.5e-7");
  EXPECT_EQ(fmt_value(-3.2e9, 3), "-3.2e9");
  EXPECT_EQ(fmt_value(NAN), "NaN");
  EXPECT_EQ(fmt_value(-INFINITY), "-inf");
  EXPECT_EQ(fmt_fixed(-0.0001, 3), "0.000");  // no "-0.000"
  EXPECT_EQ(fmt_fixed(0.8125, 2), "0.81");
  EXPECT_EQ(fmt_percent(0.9134), "91.3%");
  EXPECT_EQ(fmt_percent(-0.0001), "0.0%");
  EXPECT_EQ(fmt_percent(NAN), "n/a");
  EXPECT_EQ(fmt_percent(INFINITY), "n/a");
}

TEST(Format, EllipsizeCountsCharactersNotBytes) {
  EXPECT_EQ(ellipsize("short", 10), "short");
  EXPECT_EQ(ellipsize("abcdefghij", 5), "abcd\xE2\x80\xA6");
  EXPECT_EQ(utf8_length("\xC3\xA9\xC3\xA9\xC3\xA9"), 3u);
  EXPECT_EQ(ellipsize("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 3), "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
}

TEST(NiceNumber, HeckbertSteps) {
  EXPECT_EQ(nice_number(0.87, true), 1);
  EXPECT_EQ(nice_number(0.23, true), 0.2);
  EXPECT_EQ(nice_number(3.4, true), 5);
  EXPECT_EQ(nice_number(3.4, false), 5);
  EXPECT_EQ(nice_number(1.7, false), 2);
  EXPECT_NEAR(nice_number(72, true), 100, 1e-9);
}

// Properties every linear axis must have, over many random ranges and magnitudes.
TEST(LinearAxis, CoversDataWithEvenNiceSteps) {
  std::mt19937_64 g(42);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int trial = 0; trial < 500; ++trial) {
    double scale = std::pow(10.0, static_cast<int>(g() % 17) - 8);
    double a = u(g) * scale, b = a + std::fabs(u(g)) * scale * (trial % 5 == 0 ? 1e-3 : 1);
    Axis ax = linear_axis(a, b);
    ASSERT_GE(ax.ticks.size(), 2u);
    EXPECT_LE(ax.ticks.size(), 12u);
    EXPECT_LE(ax.lo, a);
    EXPECT_GE(ax.hi, b);
    EXPECT_EQ(ax.ticks.front(), ax.lo);
    EXPECT_EQ(ax.ticks.back(), ax.hi);
    double step = ax.ticks[1] - ax.ticks[0];
    double mant = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    EXPECT_TRUE(std::fabs(mant - 1) < 1e-6 || std::fabs(mant - 2) < 1e-6 ||
                std::fabs(mant - 5) < 1e-6 || std::fabs(mant - 10) < 1e-6)
        << "step " << step;
    std::set<std::string> distinct(ax.labels.begin(), ax.labels.end());
    EXPECT_EQ(distinct.size(), ax.labels.size()) << "duplicate labels for [" << a << ", " << b << "]";
    for (size_t i = 0; i < ax.ticks.size(); ++i) {
      if (i) {
        EXPECT_NEAR(ax.ticks[i] - ax.ticks[i - 1], step, step * 1e-6);
      }
      // Each label reads back as its tick value.
      EXPECT_NEAR(std::strtod(ax.labels[i].c_str(), nullptr), ax.ticks[i], step * 1e-6)
          << ax.labels[i];
    }
  }
}

TEST(LinearAxis, ExamplesAndPadding) {
  Axis a = linear_axis(0.13, 0.87);
  EXPECT_EQ(a.labels, (std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  Axis big = linear_axis(1.2e6, 4.7e6);
  EXPECT_EQ(big.labels.front(), "1e6");
  EXPECT_EQ(big.labels.back(), "5e6");
  Axis c = linear_axis(5, 5);  // constant: padded, value strictly inside
  EXPECT_LT(c.lo, 5);
  EXPECT_GT(c.hi, 5);
  Axis z = linear_axis(0, 0);
  EXPECT_LT(z.lo, 0);
  EXPECT_GT(z.hi, 0);
  Axis e = linear_axis(NAN, NAN);  // no data: 0..1
  EXPECT_EQ(e.lo, 0);
  EXPECT_EQ(e.hi, 1);
  Axis inc = linear_axis(0.3, 0.6, 0.0, 1.0);  // include 0..1
  EXPECT_EQ(inc.lo, 0);
  EXPECT_EQ(inc.hi, 1);
  a.px_lo = 100, a.px_hi = 300;
  EXPECT_DOUBLE_EQ(a.map(0.5), 200);
}

TEST(LogAxis, DecadesAndSubTicks) {
  Axis a = log_axis(3, 4e5);
  EXPECT_EQ(a.lo, 1);
  EXPECT_EQ(a.hi, 1e6);
  EXPECT_EQ(a.labels, (std::vector<std::string>{"1", "10", "100", "1000", "10000", "100000", "1e6"}));
  Axis narrow = log_axis(0.12, 8);  // two decades: 2x and 5x ticks added
  EXPECT_EQ(narrow.labels,
            (std::vector<std::string>{"0.1", "0.2", "0.5", "1", "2", "5", "10"}));
  Axis wide = log_axis(1e-12, 1e12);  // 24 decades: every third decade
  EXPECT_LE(wide.ticks.size(), 10u);
  for (double t : wide.ticks) EXPECT_NEAR(std::log10(t), std::round(std::log10(t)), 1e-9);
  EXPECT_EQ(wide.labels.front(), "1e-12");
  Axis constant = log_axis(100, 100);
  EXPECT_LT(constant.lo, constant.hi);
  EXPECT_LE(constant.lo, 100);
  EXPECT_GE(constant.hi, 100);
  a.px_lo = 0, a.px_hi = 600;
  EXPECT_NEAR(a.map(1000), 300, 1e-9);
}

TEST(Palette, AnchorsAndContrast) {
  std::set<std::string> cats;
  for (size_t i = 0; i < kCategoricalCount; ++i) cats.insert(categorical_color(i));
  EXPECT_EQ(cats.size(), kCategoricalCount);
  EXPECT_EQ(categorical_color(kCategoricalCount), categorical_color(0));
  EXPECT_EQ(to_hex(map_color(ColorMap::Sequential, 0)), "#440154");  // viridis ends
  EXPECT_EQ(to_hex(map_color(ColorMap::Sequential, 1)), "#fde725");
  EXPECT_EQ(to_hex(map_color(ColorMap::Sequential, 7)), "#fde725");  // clamped
  EXPECT_EQ(to_hex(map_color(ColorMap::Diverging, 0.5)), "#f7f7f7");  // near-white centre
  EXPECT_EQ(to_hex(map_color(ColorMap::Diverging, 0)), "#2166ac");
  EXPECT_EQ(to_hex(map_color(ColorMap::Diverging, 1)), "#b2182b");
  // Sequential map: luminance increases monotonically (perceptual ordering).
  double prev = -1;
  for (int i = 0; i <= 50; ++i) {
    Rgb c = map_color(ColorMap::Sequential, i / 50.0);
    double y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    EXPECT_GT(y, prev);
    prev = y;
  }
  EXPECT_EQ(contrasting_text(map_color(ColorMap::Sequential, 0)), "#ffffff");
  EXPECT_EQ(contrasting_text(map_color(ColorMap::Sequential, 1)), "#000000");
}

TEST(XmlChecker, RejectsMalformedDocuments) {
  const char* bad[] = {
      "<a><b></a>",            "<a x=1/>",           "<a>&foo;</a>",
      "<a>x < y</a>",          "<a x='1' x='2'/>",   "<a/><b/>",
      "<a>\xFF</a>",           "<a x=\"<\"/>",       "<a><!-- x -- y --></a>",
      "<a>&#0;</a>",           "<a>",                "<a></A>",
      "text<a/>",              "<a>]]></a>",         "<a>\x01</a>"};
  for (const char* doc : bad) EXPECT_THROW(xmlcheck::parse(doc), std::runtime_error) << doc;
  auto ok = xmlcheck::parse(
      "<!DOCTYPE html>\n<a k=\"&lt;&amp;&#x41;&#66;\"><b class=\"p q\">t&gt;</b><!-- c --></a>");
  EXPECT_EQ(*ok->attr("k"), "<&AB");
  ASSERT_EQ(ok->children.size(), 1u);
  EXPECT_TRUE(ok->children[0]->has_class("q"));
  EXPECT_FALSE(ok->children[0]->has_class("pq"));
  EXPECT_EQ(ok->children[0]->text, "t>");
}

}  // namespace
