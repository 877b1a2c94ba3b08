#include "cli/audit_report.h"

#include <sys/stat.h>

#include <cstdlib>

#include "core/atomic_file.h"

namespace rs::cli::audit {

std::string unescape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string e = s.substr(i + 1, semi - i - 1);
    std::string rep;
    if (e == "lt") rep = "<";
    else if (e == "gt") rep = ">";
    else if (e == "amp") rep = "&";
    else if (e == "quot") rep = "\"";
    else if (e == "apos") rep = "'";
    else if (e.size() > 1 && e[0] == '#') {
      const long cp = e[1] == 'x' ? std::strtol(e.c_str() + 2, nullptr, 16) : std::strtol(e.c_str() + 1, nullptr, 10);
      if (cp > 0 && cp < 0x80) rep = std::string(1, static_cast<char>(cp));
    }
    if (rep.empty()) {
      out += s[i];
      continue;
    }
    out += rep;
    i = semi;
  }
  return out;
}

std::vector<Figure> figures_of(const std::string& path) {
  std::vector<Figure> out;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return out;
  const std::string html = read_file(path);
  const std::string open = "<figure class=\"chart\">", close = "</figure>";
  size_t pos = 0;
  while ((pos = html.find(open, pos)) != std::string::npos) {
    const size_t end = html.find(close, pos);
    if (end == std::string::npos) break;
    const std::string fig = html.substr(pos + open.size(), end - pos - open.size());
    pos = end + close.size();
    const size_t s0 = fig.find("<svg"), s1 = fig.rfind("</svg>");
    if (s0 == std::string::npos || s1 == std::string::npos) continue;
    Figure f;
    f.svg = fig.substr(s0, s1 + 6 - s0);
    const size_t c0 = fig.find("<figcaption>"), c1 = fig.find("</figcaption>");
    if (c0 != std::string::npos && c1 != std::string::npos)
      f.caption = unescape_xml(fig.substr(c0 + 12, c1 - c0 - 12));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace rs::cli::audit
