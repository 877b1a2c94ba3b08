#include "core/layers.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/text.h"

namespace rs {
namespace {

struct Range {
  int lo, hi;
};

// One non-negative decimal integer. Nine digits at most, so it fits an int before any check.
int whole_number(const std::string& option, const std::string& text, const std::string& piece) {
  if (!piece.empty() && piece[0] == '-')
    fail_as(ExitCode::kUsage, option, ": negative value in '", text, "'; expected integers >= 0");
  bool digits = !piece.empty() && piece.size() <= 9;
  for (char c : piece) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits)
    fail_as(ExitCode::kUsage, option, ": expected an integer, a range A-B or a list A,B,C; found '", text, "'");
  return std::stoi(piece);
}

// "A" or "A-B" -> [lo, hi]; nothing is expanded before the caller checked the bounds.
Range int_range(const std::string& option, const std::string& text, const std::string& item) {
  const size_t dash = item.find('-', 1);
  if (dash == std::string::npos) {
    const int v = whole_number(option, text, item);
    return {v, v};
  }
  const Range r{whole_number(option, text, item.substr(0, dash)), whole_number(option, text, item.substr(dash + 1))};
  if (r.hi < r.lo) fail_as(ExitCode::kUsage, option, ": range ", item, " runs backwards (expected A <= B)");
  return r;
}

}  // namespace

std::vector<int> parse_int_list(const std::string& option, const std::string& text, int max_value) {
  std::vector<Range> ranges;
  for (const std::string& item : split_commas(text)) {
    const Range r = int_range(option, text, item);
    if (r.hi > max_value) fail_as(ExitCode::kUsage, option, ": ", r.hi, " is out of range (0..", max_value, ")");
    ranges.push_back(r);
  }
  std::vector<int> out;
  for (const Range& r : ranges)
    for (int v = r.lo; v <= r.hi; ++v) out.push_back(v);
  return out;
}

std::vector<int> parse_layers(const std::string& option, const std::string& spec, int n_layer, bool allow_embed) {
  if (n_layer < 1) fail_as(ExitCode::kUsage, option, ": the model has no blocks");
  const std::string blocks = str("blocks 0..", n_layer - 1);
  const std::string accepted = str(allow_embed ? "embed, " : "", "all, A, A-B or a list like 1,4,9 (", blocks, ")");
  std::vector<int> out;
  for (const std::string& item : split_commas(spec)) {
    if (item == "all") {
      for (int l = 0; l < n_layer; ++l) out.push_back(l);
    } else if (item == "embed") {
      if (!allow_embed)
        fail_as(ExitCode::kUsage, option, ": this command reads block outputs only, not the embeddings; expected ",
                accepted);
      out.push_back(kEmbedLayer);
    } else if (item.empty() || !(std::isdigit(static_cast<unsigned char>(item[0])) || item[0] == '-')) {
      fail_as(ExitCode::kUsage, option, ": expected ", accepted, "; found '", spec, "'");
    } else {
      const Range r = int_range(option, spec, item);
      if (r.hi >= n_layer)
        fail_as(ExitCode::kUsage, option, ": layer ", r.hi, " is out of range: this model has ", blocks,
                allow_embed ? " (and embed)" : "");
      for (int l = r.lo; l <= r.hi; ++l) out.push_back(l);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string layer_name(int layer) { return layer == kEmbedLayer ? "embed" : std::to_string(layer); }

std::string resid_hook(int layer) {
  return layer == kEmbedLayer ? "hook_embed" : "blocks." + std::to_string(layer) + ".hook_resid_post";
}

}  // namespace rs
