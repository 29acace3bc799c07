// Model checkpoints: one file that Python's torch.load reads as a dict
// {'format', 'version', 'config' (JSON text), 'state_dict', optional 'optimizer'},
// written atomically (temporary file in the same folder, fsync, rename).
#pragma once

#include <map>
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
// Parses a checkpoint file's bytes (TypeScript has read the file and vetted its pickle
// with the restricted unpickler first); `path` only labels error messages.
Checkpoint read_checkpoint(const std::vector<char>& bytes, const std::string& path);
// Copies a state dict into the model, checking every name and shape first.
void load_state_dict(Classifier& model, const std::vector<std::pair<std::string, torch::Tensor>>& state,
                     const std::string& path);

// Writes bytes to path atomically; the previous file survives any crash mid-write.
void write_file_atomically(const std::string& path, const std::vector<char>& bytes);

}  // namespace torchfit
