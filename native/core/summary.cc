#include "core/summary.h"

namespace torchfit {

std::string LayerNamer::next(const std::string& base) {
  for (auto& [name, count] : counts_) {
    if (name == base) return base + "_" + std::to_string(++count);
  }
  counts_.emplace_back(base, 0);
  return base;
}

}  // namespace torchfit
