// Golden files spell alternatives as scipy does.
#pragma once
#include <stdexcept>
#include <string>

#include "stats/alternative.h"

namespace rs::stats {

inline Alternative parse_alternative(const std::string& s) {
  if (s == "two-sided") return Alternative::TwoSided;
  if (s == "greater") return Alternative::Greater;
  if (s == "less") return Alternative::Less;
  throw std::runtime_error("unknown alternative " + s);
}

}  // namespace rs::stats
