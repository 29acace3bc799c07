// Rebuilding a model (and its optimizer) from tensors TypeScript read out of a
// checkpoint and vetted: names, shapes, dtypes and finiteness were checked
// there; here every entry is matched against the model that the description
// builds before a single value is copied. No file is parsed in C++.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <torch/types.h>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/models/classifier.h"
#include "core/optimizer.h"

namespace torchfit {

// Optimizer state as saved: its settings, step count and slot tensors in the order
// Optimizer::state() gives them (one per parameter for SGD with momentum, m then v for Adam).
struct OptimizerRestore {
  OptimizerConfig config;
  int64_t iterations = 0;
  std::vector<torch::Tensor> slots;  // CPU, as stored
};

struct RestoreRequest {
  ModelConfig model;
  std::vector<std::pair<std::string, torch::Tensor>> state;  // CPU tensors, dtype as stored
  std::optional<OptimizerRestore> optimizer;
  torch::Device device = torch::kCPU;
  std::string label;  // the file, for messages
};

struct RestoredModel {
  std::shared_ptr<Classifier> model;
  std::unique_ptr<Optimizer> optimizer;  // null when the checkpoint had none
  OptimizerConfig optimizer_config;
};

// Builds the model on `device` with the request's weights, and its optimizer when given.
// Throws Error("ERR_CHECKPOINT", "<label>: ...") naming the entry for any mismatch; on
// failure nothing is returned, so nothing half-restored can be used.
RestoredModel restore_model(const RestoreRequest& request);

}  // namespace torchfit
