#include "core/models/describe.h"

#include <torch/torch.h>

#include "core/models/classifier.h"

namespace torchfit {

ModelDescription describe_model(const ModelConfig& config) {
  auto model = make_classifier(config, 0);
  ModelDescription d;
  for (const auto& p : model->parameters()) d.trainable_params += p.numel();
  for (const auto& b : model->named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos) d.non_trainable_params += b.value().numel();
  }
  model->eval();
  c10::InferenceMode guard;
  const auto out = model->forward(torch::zeros({2, config.channels, config.height, config.width}));
  d.layers = model->layers();
  d.output_shape = out.sizes().vec();
  return d;
}

std::vector<std::pair<std::string, torch::Tensor>> initial_weights(const ModelConfig& config, uint64_t seed) {
  auto model = make_classifier(config, seed);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model->named_parameters()) out.emplace_back(p.key(), p.value().detach().contiguous());
  return out;
}

}  // namespace torchfit
