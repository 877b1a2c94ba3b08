// gguf::File lookups: typed metadata getters and tensor access. Messages name the file and
// the key: "<file>: metadata key K: expected T, found U".
#include <limits>

#include "core/error.h"
#include "io/gguf.h"

namespace rs::gguf {
namespace {

bool is_int_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
      return true;
    default:
      return false;
  }
}
bool is_num_type(ValueType t) {
  return is_int_type(t) || t == ValueType::FLOAT32 || t == ValueType::FLOAT64;
}
std::string describe(const Value& v) {
  if (v.type == ValueType::ARRAY) return str("ARRAY of ", value_type_name(v.elem_type));
  return value_type_name(v.type);
}

}  // namespace

const Value* File::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, const std::string& key, const char* expected,
                             const Value& v) {
  fail(path, ": metadata key ", key, ": expected ", expected, ", found ", describe(v));
}
}  // namespace

// Fetches a present key or throws "missing".
#define RS_GGUF_REQUIRE(key)                                                         \
  const Value* v = find(key);                                                        \
  if (!v) fail(path_, ": metadata key ", key, ": missing (expected in the header)");

std::string File::get_string(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (v->type != ValueType::STRING) wrong_type(path_, key, "STRING", *v);
  return v->s;
}

int64_t File::get_int(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (!is_int_type(v->type)) wrong_type(path_, key, "an integer", *v);
  if (v->type == ValueType::UINT64 && v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(path_, ": metadata key ", key, ": expected an integer up to 2^63-1, found ", v->u);
  return v->as_int();
}

double File::get_float(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (!is_num_type(v->type)) wrong_type(path_, key, "a number", *v);
  return v->as_float();
}

bool File::get_bool(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (v->type != ValueType::BOOL) wrong_type(path_, key, "BOOL", *v);
  return v->u != 0;
}

std::vector<std::string> File::get_string_array(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (v->type != ValueType::ARRAY || v->elem_type != ValueType::STRING)
    wrong_type(path_, key, "ARRAY of STRING", *v);
  std::vector<std::string> out;
  out.reserve(v->size());
  v->visit([&](const Value& e) {
    out.push_back(e.s);
    return true;
  });
  return out;
}

std::vector<int64_t> File::get_int_array(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (v->type != ValueType::ARRAY || !is_int_type(v->elem_type))
    wrong_type(path_, key, "ARRAY of integers", *v);
  std::vector<int64_t> out;
  out.reserve(v->size());
  for (size_t k = 0; k < v->size(); ++k) {
    const Value e = v->item(k);
    if (e.type == ValueType::UINT64 && e.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path_, ": metadata key ", key, ": item ", k, ": expected an integer up to 2^63-1, found ", e.u);
    out.push_back(e.as_int());
  }
  return out;
}

std::vector<double> File::get_float_array(const std::string& key) const {
  RS_GGUF_REQUIRE(key);
  if (v->type != ValueType::ARRAY || !is_num_type(v->elem_type))
    wrong_type(path_, key, "ARRAY of numbers", *v);
  std::vector<double> out;
  out.reserve(v->size());
  v->visit([&](const Value& e) {
    out.push_back(e.as_float());
    return true;
  });
  return out;
}

std::string File::get_string_or(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : def;
}
int64_t File::get_int_or(const std::string& key, int64_t def) const {
  return has(key) ? get_int(key) : def;
}
double File::get_float_or(const std::string& key, double def) const {
  return has(key) ? get_float(key) : def;
}
bool File::get_bool_or(const std::string& key, bool def) const {
  return has(key) ? get_bool(key) : def;
}

#undef RS_GGUF_REQUIRE

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(const std::string& name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) fail(path_, ": tensor \"", name, "\" not found (the file has ", tensors_.size(), " tensors)");
  return *t;
}

// Result: n_elements() floats in ggml order (ne[0] fastest).
std::vector<float> File::dequantize_tensor(const TensorInfo& t, int n_threads) const {
  if (!ggml_type_dequant_supported(t.type))
    fail(path_, ": tensor \"", t.name, "\": type ", ggml_type_name(t.type),
         " cannot be dequantised (supported: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K)");
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  dequantize_parallel(t.type, t.data, out.data(), t.n_elements(), n_threads);
  return out;
}

}  // namespace rs::gguf
