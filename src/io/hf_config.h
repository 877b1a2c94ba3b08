// Hugging Face config.json: typed access whose errors name the file and the key.
//
//   HfConfig c = HfConfig::load("model_dir");          // or ".../config.json"
//   int64_t L = c.get_int("num_hidden_layers");
//   double theta = c.get_float_or("rope_theta", 10000.0);
//   if (auto rs = c.object_or_null("rope_scaling")) rs->get_string("rope_type");
//
// Errors read "<file>: key 'rope_scaling.factor': expected number, found string". A key set
// to null counts as absent for the _or getters and object_or_null (config.json files write
// "rope_scaling": null). Numbers: get_int accepts only integers (2.0 is refused, as a layer
// count of 2.5 would be); get_float accepts any number.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs {

class HfConfig {
 public:
  // `path` is a config.json file or a directory holding one. Throws rs::Error.
  static HfConfig load(const std::string& path);
  // From text already read; `path` is used in messages.
  static HfConfig parse(const std::string& text, const std::string& path);

  const std::string& path() const { return path_; }
  const nlohmann::json& raw() const { return *j_; }  // this object
  bool has(const std::string& key) const;       // present and not null

  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  // An int or a list of ints (e.g. "eos_token_id": 2 or [2, 7]) as a list.
  std::vector<int64_t> get_int_list(const std::string& key) const;

  int64_t get_int_or(const std::string& key, int64_t def) const;
  double get_float_or(const std::string& key, double def) const;
  bool get_bool_or(const std::string& key, bool def) const;
  std::string get_string_or(const std::string& key, const std::string& def) const;
  std::vector<int64_t> get_int_list_or(const std::string& key, std::vector<int64_t> def) const;

  // Nested object (e.g. "rope_scaling", "text_config"); messages then say "rope_scaling.factor".
  HfConfig object(const std::string& key) const;                      // throws if absent/null
  std::optional<HfConfig> object_or_null(const std::string& key) const;

 private:
  HfConfig() = default;
  std::string path_;
  std::string prefix_;                    // "rope_scaling." inside a nested object
  std::shared_ptr<const nlohmann::json> root_;
  const nlohmann::json* j_ = nullptr;     // this object, inside *root_
  const nlohmann::json& need(const std::string& key, const char* expected) const;
  [[noreturn]] void wrong_type(const std::string& key, const char* expected,
                               const nlohmann::json& found) const;
};

}  // namespace rs
