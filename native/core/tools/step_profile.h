// Where a training step's time goes: runs fit's own step under libtorch's profiler and
// sums each op's self time. For scripts/bench/profile-step.mjs, not part of the public API.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace torchfit {

struct OpTime {
  std::string name;
  double self_ms = 0;   // per step, excluding the ops it called
  double total_ms = 0;  // per step, including them
  double calls = 0;     // per step
};

struct StepProfile {
  double ms_per_step = 0;  // unprofiled, median of the timed steps
  std::vector<OpTime> ops;  // by self time, largest first
};

// Random images in [0, 1) and random labels of the given batch size, on the CPU. by_shape:
// one row per op and first-input shape.
StepProfile profile_steps(const ModelConfig& model_config, const TrainConfig& config, int warmup, int steps,
                          bool by_shape);

}  // namespace torchfit
