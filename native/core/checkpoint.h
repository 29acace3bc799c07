// Writing model checkpoints: one file that Python's torch.load reads as a dict
// {'format', 'version', 'config' (JSON text), 'model', 'state_dict', optional 'optimizer'},
// written atomically (temporary file in the same folder, fsync, rename). Reading is
// TypeScript's (src/torch/checkpoint-read.ts) and core/checkpoint_restore.h's: no file
// is ever handed to libtorch's own reader.
#pragma once

#include <optional>
#include <string>
#include <torch/types.h>
#include <vector>

#include "core/models/classifier.h"
#include "core/optimizer.h"

namespace torchfit {

struct OptimizerSnapshot {
  OptimizerConfig config;
  int64_t iterations = 0;
  std::vector<torch::Tensor> slots;
};

struct Checkpoint {
  ModelConfig model;
  std::string config_json;   // the model config and training metadata, owned by TypeScript
  std::vector<std::pair<std::string, torch::Tensor>> state_dict;  // CPU tensors
  std::optional<OptimizerSnapshot> optimizer;
};

constexpr const char* kCheckpointFormat = "torchfit-model";
constexpr int64_t kCheckpointVersion = 1;

Checkpoint make_checkpoint(Classifier& model, const std::string& config_json, const Optimizer* optimizer,
                           const OptimizerConfig& optimizer_config);
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Writes bytes to path atomically; the previous file survives any crash mid-write.
void write_file_atomically(const std::string& path, const std::vector<char>& bytes);

}  // namespace torchfit
