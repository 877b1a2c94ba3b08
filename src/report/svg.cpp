#include "report/svg.h"

#include <cmath>
#include <cstdio>

namespace rs::report {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF). *cp receives the code point.
size_t utf8_sequence(std::string_view s, size_t i, unsigned* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  unsigned min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80, c &= 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800, c &= 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, c &= 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b(i + k) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return n;
}

}  // namespace

std::string escape_xml(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    unsigned cp = 0;
    size_t n = utf8_sequence(s, i, &cp);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    // XML 1.0 section 2.2 "Char": tab, LF, CR and >= 0x20, excluding U+FFFE and U+FFFF.
    bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF);
    if (!allowed) {
      out += kReplacement;
    } else if (n > 1) {
      out.append(s.substr(i, n));
    } else {
      switch (cp) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += static_cast<char>(cp);
      }
    }
    i += n;
  }
  return out;
}

std::string fmt_px(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string fmt_fixed(double v, int decimals) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals < 0 ? 0 : decimals, v);
  std::string s = buf;
  // "-0.000" reads as a sign error; a value that rounds to zero is shown unsigned.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string fmt_percent(double fraction) {
  return std::isfinite(fraction) ? fmt_fixed(100 * fraction, 1) + "%" : "n/a";
}

std::string fmt_value(double v, int digits) {
  if (!std::isfinite(v)) return fmt_fixed(v, 0);
  if (v == 0) return "0";
  if (digits < 1) digits = 1;
  double a = std::fabs(v);
  char buf[64];
  if (a >= 1e-4 && a < 1e6) {
    int mag = static_cast<int>(std::floor(std::log10(a)));
    int decimals = digits - 1 - mag;
    if (decimals < 0) decimals = 0;
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return s;
  }
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  // "1.230e-07" -> "1.23e-7": trim mantissa zeros and exponent padding.
  std::string s = buf;
  size_t e = s.find('e');
  std::string mant = s.substr(0, e), ex = s.substr(e + 1);
  if (mant.find('.') != std::string::npos) {
    while (mant.back() == '0') mant.pop_back();
    if (mant.back() == '.') mant.pop_back();
  }
  int exp = std::stoi(ex);
  return mant + "e" + std::to_string(exp);
}

std::string attr(std::string_view name, std::string_view value) {
  std::string out = " ";
  out.append(name);
  out += "=\"";
  out += escape_xml(value);
  out += '"';
  return out;
}

std::string attr(std::string_view name, double px) { return attr(name, fmt_px(px)); }

size_t utf8_length(std::string_view s) {
  size_t n = 0, i = 0;
  while (i < s.size()) {
    unsigned cp;
    size_t k = utf8_sequence(s, i, &cp);
    i += k ? k : 1;
    ++n;
  }
  return n;
}

double text_width(std::string_view text, double font_px) {
  return static_cast<double>(utf8_length(text)) * font_px * 0.6;
}

std::string ellipsize(std::string_view s, size_t max_chars) {
  if (utf8_length(s) <= max_chars) return std::string(s);
  if (max_chars == 0) return "";
  size_t n = 0, i = 0;
  while (i < s.size() && n + 1 < max_chars) {
    unsigned cp;
    size_t k = utf8_sequence(s, i, &cp);
    i += k ? k : 1;
    ++n;
  }
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";
}

}  // namespace rs::report
