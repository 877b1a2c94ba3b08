// reasonscope steer convert: rewrite a control-vector file, e.g. a llama.cpp cvector-generator
// file (direction.N measured at block N-1) into our layout (direction.N = block N), keep some
// layers, or scale.
#include <memory>

#include "cli/steer_commands.h"
#include "core/error.h"
#include "core/log.h"
#include "methods/steer/cvec_file.h"

namespace rs::cli {
namespace {

struct ConvertOptions {
  std::string in, out;
  bool from_cvector = false;
  bool to_cvector = false;
  std::string layers;
  double scale = 1.0;
};

void run_convert(const ConvertOptions& o) {
  if (o.from_cvector && o.to_cvector) fail("give --from-llama-cpp-cvector or --to-llama-cpp-cvector, not both");
  steer::ReadOptions ro;
  ro.from_llama_cpp_cvector = o.from_cvector;
  steer::ControlVectors cv = steer::read_control_vectors(o.in, ro);
  if (!o.layers.empty()) {
    int64_t top = 0;
    for (const auto& [l, v] : cv.layers) top = std::max(top, l + 1);
    std::map<int64_t, at::Tensor> keep;
    for (int64_t l : parse_steer_layers("--layers", o.layers, std::max<int64_t>(top, 1))) {
      auto it = cv.layers.find(l);
      if (it == cv.layers.end()) fail("--layers: ", o.in, " has no vector for layer ", l);
      keep[l] = it->second;
    }
    cv.layers = keep;
  }
  for (auto& [l, v] : cv.layers) v = v * o.scale;
  if (o.to_cvector) {  // cvector-generator's naming: the vector for block l is direction.l+1
    std::map<int64_t, at::Tensor> shifted;
    for (auto& [l, v] : cv.layers) shifted[l + 1] = v;
    cv.layers = shifted;
  }
  if (o.from_cvector) {
    if (cv.layers.count(0)) {
      log_warn(str(o.in, ": direction.1 was measured at block 0; our files cannot hold layer 0 "
                         "(llama.cpp rejects direction.0): dropped"));
      cv.layers.erase(0);
    }
    cv.info["converted_from"] = "llama.cpp cvector-generator (shifted down one block)";
  }
  steer::write_control_vectors(o.out, cv);
  log_info(str("wrote ", cv.layers.size(), " directions (n_embd ", cv.n_embd, ") to ", o.out));
}

}  // namespace

void setup_steer_convert(CLI::App& steer) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* sub = steer.add_subcommand("convert", "Rewrite a control-vector file (cvector-generator shift, layers, scale)");
  sub->add_option("--in,-i", o->in, "Control vector .gguf to read")->required();
  sub->add_option("--out,-o", o->out, "Control vector .gguf to write (atomically)")->required();
  sub->add_flag("--from-llama-cpp-cvector", o->from_cvector,
                "The input comes from llama.cpp's cvector-generator, which names the vector measured at "
                "block i direction.i+1: shift every layer down by one");
  sub->add_flag("--to-llama-cpp-cvector", o->to_cvector,
                "Write cvector-generator's naming (vector of block l as direction.l+1)");
  sub->add_option("--layers", o->layers, std::string("Keep only these layers (after any shift). ") + kSteerLayersHelp);
  sub->add_option("--scale", o->scale, "Multiply every vector by this")->capture_default_str();
  sub->footer(
      "Our files already are llama.cpp's layout: direction.N is added to the output of block N.\n"
      "Example: reasonscope steer convert --in cvgen.gguf --from-llama-cpp-cvector --out ours.gguf");
  sub->callback([o] { run_convert(*o); });
}

}  // namespace rs::cli
