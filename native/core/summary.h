// Keras-style description of a model's layers, computed from its config.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torchfit {

struct LayerInfo {
  std::string name;                 // unique, Keras's naming: conv2d, conv2d_1, ...
  std::string type;                 // Keras class name
  std::vector<int64_t> output_shape;  // without batch, channels last (H, W, C)
  int64_t params = 0;               // all, BatchNorm moving statistics included
  int64_t trainable_params = 0;
  std::vector<std::string> inbound;
  std::string config;               // short settings text
};

// Hands out Keras's default layer names: the first of a type has no suffix.
class LayerNamer {
 public:
  std::string next(const std::string& base);

 private:
  std::vector<std::pair<std::string, int>> counts_;
};

}  // namespace torchfit
