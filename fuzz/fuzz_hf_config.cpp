// libFuzzer target for a Hugging Face directory's config.json: the model config the loader
// builds from it (config_from_hf_json, then what `info` prints) and the typed HfConfig
// accessors. Any input must give a valid config or one rs::Error; a crash, sanitizer report
// (overflow, bad cast) or other exception is a finding. Seeds: fuzz/corpus/hf_config/.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/hf_config.h"
#include "model/config.h"

namespace {

// Every typed getter on every key; the nested objects too, one level down.
void walk(const rs::HfConfig& c, int depth) {
  for (auto it = c.raw().begin(); it != c.raw().end(); ++it) {
    const std::string& k = it.key();
    auto attempt = [](auto&& f) {
      try {
        f();
      } catch (const rs::Error&) {
      }
    };
    attempt([&] { (void)c.has(k); });
    attempt([&] { (void)c.get_int(k); });
    attempt([&] { (void)c.get_float(k); });
    attempt([&] { (void)c.get_bool(k); });
    attempt([&] { (void)c.get_string(k); });
    attempt([&] { (void)c.get_int_array(k); });
    attempt([&] { (void)c.get_string_array(k); });
    attempt([&] { (void)c.get_int_list(k); });
    attempt([&] { (void)c.get_int_or(k, 1); });
    attempt([&] { (void)c.get_float_or(k, 1.0); });
    attempt([&] { (void)c.get_bool_or(k, false); });
    attempt([&] { (void)c.get_string_or(k, "x"); });
    attempt([&] { (void)c.get_int_list_or(k, {1}); });
    if (depth < 2)
      attempt([&] {
        if (auto o = c.object_or_null(k)) walk(*o, depth + 1);
      });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    rs::ModelConfig c = rs::config_from_hf_json(text, "fuzz/config.json");
    (void)c.summary();
    (void)c.n_params();
  } catch (const rs::Error&) {
  }
  try {
    walk(rs::HfConfig::parse(text, "fuzz/config.json"), 0);
  } catch (const rs::Error&) {
  }
  return 0;
}
