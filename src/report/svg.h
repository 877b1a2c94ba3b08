// Text and number formatting shared by the chart module and the HTML page: XML escaping (every
// piece of user text goes through escape_xml), compact coordinates, and a tiny element builder.
// Deliberately not a general SVG library: only what our charts draw.
#pragma once
#include <string>
#include <string_view>

namespace rs::report {

// Escapes & < > " ' for use in XML/HTML text and attribute values. Bytes that are not valid
// UTF-8, and characters XML 1.0 forbids (C0 controls other than tab/newline/CR, U+FFFE/U+FFFF),
// become U+FFFD, so any input yields a well-formed document.
std::string escape_xml(std::string_view text);

// Pixel coordinate with at most 2 decimals, trailing zeros trimmed ("12.5", "-3", "0").
std::string fmt_px(double v);

// A value for people to read (tooltips, legends, tables): `digits` significant digits, plain
// notation for 1e-4 <= |v| < 1e6, otherwise "1.23e-7"; "NaN", "inf", "-inf" for non-finite.
std::string fmt_value(double v, int digits = 4);

// Fixed notation with `decimals` decimals ("0.913"); non-finite as in fmt_value.
std::string fmt_fixed(double v, int decimals);

// A fraction as a percentage with one decimal ("91.3%"); "n/a" when it is not finite.
std::string fmt_percent(double fraction);

// ` name="escaped value"` (with the leading space), ready to append inside a start tag.
std::string attr(std::string_view name, std::string_view value);
std::string attr(std::string_view name, double px);

// Rough rendered width of `text` in pixels at `font_px` (sans-serif averages ~0.6 em per
// character); used only to reserve room for labels and legends.
double text_width(std::string_view text, double font_px);

// Shortens text to at most `max_chars` characters (UTF-8 aware), ending in "…" when cut.
std::string ellipsize(std::string_view text, size_t max_chars);

// Number of UTF-8 characters (code points; invalid bytes count one each).
size_t utf8_length(std::string_view text);

}  // namespace rs::report
