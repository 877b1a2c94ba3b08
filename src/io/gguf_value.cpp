// gguf::Value: construction, conversion, comparison and printing of metadata values.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "io/gguf.h"

namespace rs::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "UINT8";
    case ValueType::INT8: return "INT8";
    case ValueType::UINT16: return "UINT16";
    case ValueType::INT16: return "INT16";
    case ValueType::UINT32: return "UINT32";
    case ValueType::INT32: return "INT32";
    case ValueType::FLOAT32: return "FLOAT32";
    case ValueType::BOOL: return "BOOL";
    case ValueType::STRING: return "STRING";
    case ValueType::ARRAY: return "ARRAY";
    case ValueType::UINT64: return "UINT64";
    case ValueType::INT64: return "INT64";
    case ValueType::FLOAT64: return "FLOAT64";
  }
  return "unknown";
}

namespace {
Value make(ValueType t) {
  Value v;
  v.type = t;
  return v;
}
bool is_unsigned(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 ||
         t == ValueType::UINT64;
}
bool is_signed(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 ||
         t == ValueType::INT64;
}
}  // namespace

Value Value::of_u8(uint8_t x) { Value v = make(ValueType::UINT8); v.u = x; return v; }
Value Value::of_i8(int8_t x) { Value v = make(ValueType::INT8); v.i = x; return v; }
Value Value::of_u16(uint16_t x) { Value v = make(ValueType::UINT16); v.u = x; return v; }
Value Value::of_i16(int16_t x) { Value v = make(ValueType::INT16); v.i = x; return v; }
Value Value::of_u32(uint32_t x) { Value v = make(ValueType::UINT32); v.u = x; return v; }
Value Value::of_i32(int32_t x) { Value v = make(ValueType::INT32); v.i = x; return v; }
Value Value::of_u64(uint64_t x) { Value v = make(ValueType::UINT64); v.u = x; return v; }
Value Value::of_i64(int64_t x) { Value v = make(ValueType::INT64); v.i = x; return v; }
Value Value::of_f32(float x) { Value v = make(ValueType::FLOAT32); v.f = x; return v; }
Value Value::of_f64(double x) { Value v = make(ValueType::FLOAT64); v.f = x; return v; }
Value Value::of_bool(bool x) { Value v = make(ValueType::BOOL); v.u = x ? 1 : 0; return v; }
Value Value::of_string(std::string x) {
  Value v = make(ValueType::STRING);
  v.s = std::move(x);
  return v;
}
Value Value::of_array(ValueType elem, const std::vector<Value>& items) {
  Value v = make(ValueType::ARRAY);
  v.elem_type = elem;
  v.raw.reserve(items.size() * std::max<size_t>(fixed_size(elem), 1));
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k].type != elem)
      fail("gguf array item ", k, ": has type ", value_type_name(items[k].type),
           ", expected the array's element type ", value_type_name(elem));
    encode_value(items[k], v.raw);
  }
  v.count = items.size();
  return v;
}

size_t fixed_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    case ValueType::STRING: case ValueType::ARRAY: return 0;
  }
  return 0;
}

namespace {
template <typename T>
void put(std::vector<uint8_t>& out, T x) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));  // little-endian host (x86-64, aarch64)
}
}  // namespace

void encode_value(const Value& v, std::vector<uint8_t>& out) {
  auto range = [&](bool ok, const auto& val) {
    if (!ok) fail("gguf value ", val, " does not fit ", value_type_name(v.type));
  };
  switch (v.type) {
    case ValueType::UINT8: range(v.u <= 0xff, v.u); put<uint8_t>(out, static_cast<uint8_t>(v.u)); break;
    case ValueType::BOOL: range(v.u <= 1, v.u); put<uint8_t>(out, static_cast<uint8_t>(v.u)); break;
    case ValueType::UINT16: range(v.u <= 0xffff, v.u); put<uint16_t>(out, static_cast<uint16_t>(v.u)); break;
    case ValueType::UINT32:
      range(v.u <= 0xffffffffull, v.u);
      put<uint32_t>(out, static_cast<uint32_t>(v.u));
      break;
    case ValueType::UINT64: put<uint64_t>(out, v.u); break;
    case ValueType::INT8: range(v.i >= -128 && v.i <= 127, v.i); put<int8_t>(out, static_cast<int8_t>(v.i)); break;
    case ValueType::INT16:
      range(v.i >= -32768 && v.i <= 32767, v.i);
      put<int16_t>(out, static_cast<int16_t>(v.i));
      break;
    case ValueType::INT32:
      range(v.i >= std::numeric_limits<int32_t>::min() && v.i <= std::numeric_limits<int32_t>::max(), v.i);
      put<int32_t>(out, static_cast<int32_t>(v.i));
      break;
    case ValueType::INT64: put<int64_t>(out, v.i); break;
    case ValueType::FLOAT32: put<float>(out, static_cast<float>(v.f)); break;
    case ValueType::FLOAT64: put<double>(out, v.f); break;
    case ValueType::STRING:
      put<uint64_t>(out, v.s.size());
      out.insert(out.end(), v.s.begin(), v.s.end());
      break;
    case ValueType::ARRAY:
      put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
      put<uint64_t>(out, v.size());
      out.insert(out.end(), v.raw.begin(), v.raw.end());
      break;
    default:
      fail("gguf value: unknown value type ", static_cast<uint32_t>(v.type));
  }
}

bool Value::is_integer() const { return is_unsigned(type) || is_signed(type); }
bool Value::is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }

int64_t Value::as_int() const {
  if (is_unsigned(type) || type == ValueType::BOOL) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("metadata value ", u, " (", value_type_name(type), ") does not fit a signed 64-bit integer");
    return static_cast<int64_t>(u);
  }
  if (is_signed(type)) return i;
  fail("metadata value: expected an integer, found ", value_type_name(type));
}

double Value::as_float() const {
  if (is_float()) return f;
  if (is_unsigned(type)) return static_cast<double>(u);
  if (is_signed(type)) return static_cast<double>(i);
  fail("metadata value: expected a number, found ", value_type_name(type));
}

std::string Value::to_string(size_t max_items) const {
  if (is_unsigned(type)) return str(u);
  if (is_signed(type)) return str(i);
  if (type == ValueType::BOOL) return u ? "true" : "false";
  if (type == ValueType::FLOAT32) return str(static_cast<float>(f));
  if (type == ValueType::FLOAT64) return str(f);
  if (type == ValueType::STRING) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '\n') out += "\\n";
      else if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else out += c;
    }
    return out + "\"";
  }
  const size_t n = size();
  std::string out = str("[", n, " x ", value_type_name(elem_type));
  size_t k = 0;
  visit([&](const Value& e) {
    if (k == max_items) return false;
    out += (k++ == 0 ? ": " : ", ") + e.to_string(max_items);
    return true;
  });
  if (n > max_items) out += ", ...";
  return out + "]";
}

bool operator==(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32:
    case ValueType::UINT64: case ValueType::BOOL:
      return a.u == b.u;
    case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
      return a.i == b.i;
    case ValueType::FLOAT32: case ValueType::FLOAT64:
      return a.f == b.f || (std::isnan(a.f) && std::isnan(b.f));
    case ValueType::STRING:
      return a.s == b.s;
    case ValueType::ARRAY:
      if (a.elem_type != b.elem_type || a.size() != b.size()) return false;
      if (a.raw == b.raw) return true;
      if (a.elem_type == ValueType::FLOAT32 || a.elem_type == ValueType::FLOAT64) {
        // Equal floats can differ in bytes (-0 and 0, NaN payloads).
        for (size_t k = 0; k < a.size(); ++k)
          if (a.item(k) != b.item(k)) return false;
        return true;
      }
      if (a.elem_type != ValueType::ARRAY) return false;
      {
        std::vector<Value> inner_a;  // nested arrays: compare element by element
        a.visit([&](const Value& e) { inner_a.push_back(e); return true; });
        size_t k = 0;
        bool same = true;
        b.visit([&](const Value& e) { same = inner_a[k++] == e; return same; });
        return same;
      }
  }
  return false;
}

}  // namespace rs::gguf
