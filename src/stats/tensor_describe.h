// "shape [n, d], dtype Float" for error messages. Passing c10 types (IntArrayRef, ScalarType)
// straight to rs::fail makes its unqualified str() call ambiguous with c10::str through ADL,
// so tensors are described as a std::string first.
#pragma once
#include <ATen/core/Tensor.h>

#include <sstream>
#include <string>

namespace rs::stats::detail {

inline std::string describe(const at::Tensor& t) {
  std::ostringstream os;
  os << "shape " << t.sizes() << ", dtype " << t.scalar_type();
  return os.str();
}

}  // namespace rs::stats::detail
