// A small strict XML well-formedness checker and tree for the report tests (no XML parser may be
// added as a dependency). Checks what XML 1.0 requires of our output: one root element, properly
// nested and matched tags, quoted attribute values without '<', no duplicate attributes, only the
// five predefined entities and valid numeric character references, no stray '<' or '&' in text,
// well-formed comments, valid UTF-8 and only characters XML allows. A leading <?xml ...?> and a
// simple <!DOCTYPE ...> (no internal subset) are accepted. Throws std::runtime_error naming the
// byte offset of the first problem.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xmlcheck {

struct Node {
  std::string name;
  std::map<std::string, std::string> attrs;  // decoded values
  std::vector<std::unique_ptr<Node>> children;
  std::string text;  // decoded character data directly inside this element

  const std::string* attr(const std::string& k) const {
    auto it = attrs.find(k);
    return it == attrs.end() ? nullptr : &it->second;
  }
  bool has_class(const std::string& cls) const {
    const std::string* c = attr("class");
    if (!c) return false;
    size_t i = 0;
    while (i < c->size()) {
      size_t j = c->find(' ', i);
      if (j == std::string::npos) j = c->size();
      if (c->compare(i, j - i, cls) == 0 && j - i == cls.size()) return true;
      i = j + 1;
    }
    return false;
  }
  // All text inside, depth first (excluding <title> children when skip_titles).
  std::string all_text(bool skip_titles = false) const {
    std::string s = text;
    for (const auto& c : children)
      if (!(skip_titles && c->name == "title")) s += c->all_text(skip_titles);
    return s;
  }
  // Direct <title> child text, or "".
  std::string title_text() const {
    for (const auto& c : children)
      if (c->name == "title") return c->text;
    return "";
  }
};

// Every element below (and including) `n` for which pred holds, in document order.
template <typename Pred>
void collect(const Node& n, Pred pred, std::vector<const Node*>* out) {
  if (pred(n)) out->push_back(&n);
  for (const auto& c : n.children) collect(*c, pred, out);
}
inline std::vector<const Node*> by_name(const Node& root, const std::string& name,
                                        const std::string& cls = "") {
  std::vector<const Node*> out;
  collect(root, [&](const Node& n) { return n.name == name && (cls.empty() || n.has_class(cls)); },
          &out);
  return out;
}
inline std::vector<const Node*> by_class(const Node& root, const std::string& cls) {
  std::vector<const Node*> out;
  collect(root, [&](const Node& n) { return n.has_class(cls); }, &out);
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::unique_ptr<Node> parse() {
    check_utf8();
    skip_ws();
    if (starts("<?xml")) {
      size_t e = s_.find("?>", i_);
      if (e == std::string_view::npos) error("unterminated XML declaration");
      i_ = e + 2;
    }
    skip_misc();
    if (starts("<!DOCTYPE")) {
      size_t e = s_.find('>', i_);
      if (e == std::string_view::npos) error("unterminated DOCTYPE");
      if (s_.substr(i_, e - i_).find('[') != std::string_view::npos)
        error("DOCTYPE internal subset not supported");
      i_ = e + 1;
    }
    skip_misc();
    if (!starts("<")) error("expected the root element");
    auto root = element();
    skip_misc();
    if (i_ != s_.size()) error("content after the root element");
    return root;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;

  [[noreturn]] void error(const std::string& what) const {
    throw std::runtime_error("XML error at byte " + std::to_string(i_) + ": " + what + " near '" +
                             std::string(s_.substr(i_, 40)) + "'");
  }
  bool starts(std::string_view p) const { return s_.substr(i_, p.size()) == p; }
  static bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_ws() {
    while (i_ < s_.size() && ws(s_[i_])) ++i_;
  }
  void skip_misc() {  // whitespace and comments outside the root
    for (;;) {
      skip_ws();
      if (starts("<!--")) comment();
      else return;
    }
  }
  void comment() {
    i_ += 4;
    size_t e = s_.find("--", i_);
    if (e == std::string_view::npos) error("unterminated comment");
    if (e + 2 >= s_.size() || s_[e + 2] != '>') {
      i_ = e;
      error("'--' inside a comment");
    }
    i_ = e + 3;
  }

  static bool name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
  }
  static bool name_char(unsigned char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
  }
  std::string name() {
    size_t b = i_;
    if (i_ >= s_.size() || !name_start(static_cast<unsigned char>(s_[i_]))) error("expected a name");
    while (i_ < s_.size() && name_char(static_cast<unsigned char>(s_[i_]))) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  static bool xml_char(uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
  }
  // At '&': decodes one reference into out.
  void reference(std::string& out) {
    size_t e = s_.find(';', i_);
    if (e == std::string_view::npos || e - i_ > 12) error("'&' not starting a reference");
    std::string_view ref = s_.substr(i_ + 1, e - i_ - 1);
    if (ref == "amp") out += '&';
    else if (ref == "lt") out += '<';
    else if (ref == "gt") out += '>';
    else if (ref == "quot") out += '"';
    else if (ref == "apos") out += '\'';
    else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) error("empty character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else error("bad digit in character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
        if (cp > 0x10FFFF) error("character reference out of range");
      }
      if (!xml_char(cp)) error("character reference to a character XML forbids");
      append_utf8(out, cp);
    } else {
      error("unknown entity '&" + std::string(ref) + ";'");
    }
    i_ = e + 1;
  }

  std::unique_ptr<Node> element() {
    ++i_;  // '<'
    auto n = std::make_unique<Node>();
    n->name = name();
    for (;;) {
      size_t before = i_;
      skip_ws();
      if (i_ >= s_.size()) error("unterminated start tag");
      if (starts("/>")) {
        i_ += 2;
        return n;
      }
      if (s_[i_] == '>') {
        ++i_;
        break;
      }
      if (i_ == before) error("expected whitespace before an attribute");
      std::string k = name();
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '=') error("expected '=' after attribute " + k);
      ++i_;
      skip_ws();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) error("unquoted attribute value");
      char q = s_[i_++];
      std::string v;
      while (i_ < s_.size() && s_[i_] != q) {
        if (s_[i_] == '<') error("'<' in attribute value");
        if (s_[i_] == '&') reference(v);
        else v += s_[i_++];
      }
      if (i_ >= s_.size()) error("unterminated attribute value");
      ++i_;
      if (!n->attrs.emplace(k, v).second) error("duplicate attribute " + k);
    }
    // Content.
    for (;;) {
      if (i_ >= s_.size()) error("unclosed element <" + n->name + ">");
      char c = s_[i_];
      if (c == '<') {
        if (starts("</")) {
          i_ += 2;
          std::string close = name();
          if (close != n->name) error("</" + close + "> closes <" + n->name + ">");
          skip_ws();
          if (i_ >= s_.size() || s_[i_] != '>') error("expected '>'");
          ++i_;
          return n;
        }
        if (starts("<!--")) {
          comment();
          continue;
        }
        if (starts("<![CDATA[")) {
          size_t e = s_.find("]]>", i_);
          if (e == std::string_view::npos) error("unterminated CDATA");
          n->text += std::string(s_.substr(i_ + 9, e - i_ - 9));
          i_ = e + 3;
          continue;
        }
        if (starts("<?") || starts("<!")) error("unexpected markup declaration");
        n->children.push_back(element());
      } else if (c == '&') {
        reference(n->text);
      } else {
        if (starts("]]>")) error("']]>' in text");
        n->text += c;
        ++i_;
      }
    }
  }

  void check_utf8() {
    size_t i = 0;
    auto b = [&](size_t k) { return static_cast<unsigned char>(s_[k]); };
    while (i < s_.size()) {
      unsigned c = b(i);
      size_t n;
      uint32_t cp, min;
      if (c < 0x80) n = 1, cp = c, min = 0;
      else if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
      else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
      else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
      else {
        i_ = i;
        error("invalid UTF-8 lead byte");
      }
      if (i + n > s_.size()) {
        i_ = i;
        error("truncated UTF-8 sequence");
      }
      for (size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) {
          i_ = i;
          error("invalid UTF-8 continuation byte");
        }
        cp = (cp << 6) | (b(i + k) & 0x3F);
      }
      if (cp < min || !xml_char(cp)) {
        i_ = i;
        error("overlong UTF-8 or a character XML forbids");
      }
      i += n;
    }
  }
};

inline std::unique_ptr<Node> parse(std::string_view s) { return Parser(s).parse(); }

}  // namespace xmlcheck
