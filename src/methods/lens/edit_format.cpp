// Edit-file layout checks (edit_format.h).
#include "methods/lens/edit_format.h"

#include <cmath>
#include <cstdlib>
#include <utility>

#include "core/error.h"

namespace rs::lens {
namespace {
// A base weight's mean |w| as save_edit wrote it: the whole text one finite number >= 0 (a
// NaN would make the identity check in check_edit pass for any model).
double parse_mean_abs(const std::string& key, const std::string& text, const std::string& path) {
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(x) || x < 0)
    fail(path, ": metadata '", key, "': expected a finite number >= 0 (the base weight's mean |w|), "
         "found '", text, "'");
  return x;
}
}  // namespace

EditValues parse_edit_file(const SafetensorsFile& f, const std::string& path) {
  const auto& md = f.metadata();
  auto fmt = md.find("format");
  if (fmt == md.end() || fmt->second != kEditFormat)
    fail(path, ": not a reasonscope edit file (metadata 'format' should be '", kEditFormat, "')");
  EditValues e;
  for (const auto& [k, v] : md) {
    if (k == "format") continue;
    if (k.rfind("identity.", 0) == 0)
      e.model_identity[k.substr(9)] = v;
    else if (k.rfind("base_mean_abs.", 0) == 0)
      e.base_mean_abs[k.substr(14)] = parse_mean_abs(k, v, path);
    else
      e.metadata[k] = v;
  }
  for (const StTensor& t : f.tensors()) {
    if (!st_dtype_is_float(t.dtype)) fail(path, ": tensor '", t.name, "' is not a float tensor");
    if (!e.base_mean_abs.count(t.name))
      fail(path, ": tensor '", t.name, "' has no base_mean_abs metadata (model identity unknown)");
    e.deltas.push_back({t.name, t.shape, st_to_float(t)});
  }
  if (e.deltas.empty()) fail(path, ": edit file holds no tensors");
  return e;
}

}  // namespace rs::lens
