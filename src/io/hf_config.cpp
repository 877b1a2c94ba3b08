// HfConfig: typed getters over a parsed config.json (see hf_config.h).
#include "io/hf_config.h"
#include "core/text.h"

#include <sys/stat.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors_detail.h"

namespace rs {

using nlohmann::json;

namespace {
const char* kind(const json& v) {
  if (v.is_number()) return "number";
  return v.type_name();  // "null", "boolean", "string", "array", "object"
}
}  // namespace

HfConfig HfConfig::parse(const std::string& text, const std::string& path) {
  HfConfig c;
  c.path_ = path;
  if (rs::json_nesting_depth(text) > 64) fail(path, ": JSON nested deeper than 64 levels");
  try {
    c.root_ = std::make_shared<const json>(json::parse(text));
  } catch (const json::parse_error& e) {
    fail(path, ": offset ", e.byte > 0 ? e.byte - 1 : 0, ": invalid JSON: ",
         st_detail::parse_error_detail(e.what()));
  } catch (const json::exception& e) {  // e.g. a number too large
    fail(path, ": invalid JSON: ", st_detail::json_error_detail(e.what()));
  }
  if (!c.root_->is_object())
    fail(path, ": expected a JSON object at the top level, found ", kind(*c.root_));
  c.j_ = c.root_.get();
  return c;
}

HfConfig HfConfig::load(const std::string& path) {
  struct stat st;
  std::string file = path;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) file = path + "/config.json";
  return parse(read_file(file), file);
}

void HfConfig::wrong_type(const std::string& key, const char* expected, const json& found) const {
  fail(path_, ": key '", prefix_, key, "': expected ", expected, ", found ", kind(found),
       found.is_primitive() ? " " + found.dump() : std::string());
}

const json& HfConfig::need(const std::string& key, const char* expected) const {
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null())
    fail(path_, ": key '", prefix_, key, "': missing (expected ", expected, ")");
  return *it;
}

bool HfConfig::has(const std::string& key) const {
  auto it = j_->find(key);
  return it != j_->end() && !it->is_null();
}

int64_t HfConfig::get_int(const std::string& key) const {
  const json& v = need(key, "an integer");
  if (!v.is_number_integer()) wrong_type(key, "an integer", v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
    wrong_type(key, "an integer that fits in 64 bits", v);
  return v.get<int64_t>();
}

double HfConfig::get_float(const std::string& key) const {
  const json& v = need(key, "a number");
  if (!v.is_number()) wrong_type(key, "a number", v);
  return v.get<double>();
}

bool HfConfig::get_bool(const std::string& key) const {
  const json& v = need(key, "true or false");
  if (!v.is_boolean()) wrong_type(key, "true or false", v);
  return v.get<bool>();
}

std::string HfConfig::get_string(const std::string& key) const {
  const json& v = need(key, "a string");
  if (!v.is_string()) wrong_type(key, "a string", v);
  return v.get<std::string>();
}

std::vector<int64_t> HfConfig::get_int_array(const std::string& key) const {
  const json& v = need(key, "an array of integers");
  if (!v.is_array()) wrong_type(key, "an array of integers", v);
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer() ||
        (v[i].is_number_unsigned() && v[i].get<uint64_t>() > uint64_t(INT64_MAX)))
      wrong_type(key + "[" + std::to_string(i) + "]", "an integer", v[i]);
    out.push_back(v[i].get<int64_t>());
  }
  return out;
}

std::vector<std::string> HfConfig::get_string_array(const std::string& key) const {
  const json& v = need(key, "an array of strings");
  if (!v.is_array()) wrong_type(key, "an array of strings", v);
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) wrong_type(key + "[" + std::to_string(i) + "]", "a string", v[i]);
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

std::vector<int64_t> HfConfig::get_int_list(const std::string& key) const {
  const json& v = need(key, "an integer or an array of integers");
  if (v.is_array()) return get_int_array(key);
  return {get_int(key)};
}

int64_t HfConfig::get_int_or(const std::string& key, int64_t def) const {
  return has(key) ? get_int(key) : def;
}
double HfConfig::get_float_or(const std::string& key, double def) const {
  return has(key) ? get_float(key) : def;
}
bool HfConfig::get_bool_or(const std::string& key, bool def) const {
  return has(key) ? get_bool(key) : def;
}
std::string HfConfig::get_string_or(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : def;
}
std::vector<int64_t> HfConfig::get_int_list_or(const std::string& key,
                                               std::vector<int64_t> def) const {
  return has(key) ? get_int_list(key) : def;
}

HfConfig HfConfig::object(const std::string& key) const {
  const json& v = need(key, "an object");
  if (!v.is_object()) wrong_type(key, "an object", v);
  HfConfig c;
  c.path_ = path_;
  c.prefix_ = prefix_ + key + ".";
  c.root_ = root_;
  c.j_ = &v;
  return c;
}

std::optional<HfConfig> HfConfig::object_or_null(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return object(key);
}

}  // namespace rs
