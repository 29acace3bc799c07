// What a model is, read from the real module: its layer table, parameter counts and output
// shape (a forward pass on zeros), and its initial weights for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include <torch/types.h>

#include "core/config.h"
#include "core/summary.h"

namespace torchfit {

struct ModelDescription {
  std::vector<LayerInfo> layers;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;  // buffers, without the batch counters Keras does not have
  std::vector<int64_t> output_shape;
};

ModelDescription describe_model(const ModelConfig& config);

// The parameters as built for this seed, by name, contiguous float32 on the CPU.
std::vector<std::pair<std::string, torch::Tensor>> initial_weights(const ModelConfig& config, uint64_t seed);

}  // namespace torchfit
