// Callback decision logic run on a scripted metric series, for tests.
#pragma once

#include <vector>

#include "core/early_stopping.h"

namespace torchfit {

// The 0-based epoch at which EarlyStopping stops on these monitored values, or -1.
inline int early_stopping_stop_epoch(const EarlyStoppingConfig& config, const std::vector<double>& values) {
  EarlyStopping early_stopping(config);
  for (size_t i = 0; i < values.size(); ++i) {
    if (early_stopping.on_epoch_end(static_cast<int>(i), values[i]) == EarlyStopping::Verdict::Stop) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace torchfit
