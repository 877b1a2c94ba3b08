// Edit-file layout checks (edit_format.h).
#include "methods/lens/edit_format.h"

#include <utility>

#include "core/error.h"

namespace rs::lens {

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
      e.base_mean_abs[k.substr(14)] = std::stod(v);
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
