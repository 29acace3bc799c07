// A model of the layers API: the resolved layer list as modules in a ModuleList
// named `layers` (one entry per layer, parameterless ones included, so indices
// match torch.nn.ModuleList), residual blocks with `body` and `shortcut` lists.
// Parameter names follow torch.nn (weight, bias, running_mean, ...), so a PyTorch
// module generated from the same description loads the state_dict as it is.
#pragma once

#include <torch/nn/modules/container/modulelist.h>

#include "core/models/classifier.h"
#include "core/models/keras_batch_norm.h"

namespace torchfit {

// A conv2d's or dense's kernel and optional bias, as torch.nn.Conv2d / Linear hold them.
class KernelImpl : public torch::nn::Module {
 public:
  KernelImpl(const std::vector<int64_t>& shape, bool use_bias);
  torch::Tensor weight, bias;  // bias undefined when the layer has none
};
TORCH_MODULE(Kernel);

// Holds a parameterless layer's place in the list.
class NoParamsImpl : public torch::nn::Module {};
TORCH_MODULE(NoParams);

class ResidualImpl : public torch::nn::Module {
 public:
  ResidualImpl(torch::nn::ModuleList body, torch::nn::ModuleList shortcut);
  torch::nn::ModuleList body{nullptr}, shortcut{nullptr};
};
TORCH_MODULE(Residual);

class Sequential : public Classifier {
 public:
  // Kernels are drawn from `gen` in layer order (a residual block: body, then shortcut);
  // `seed` also seeds dropout's masks.
  Sequential(const ModelConfig& config, at::Generator& gen, uint64_t seed);
  torch::Tensor forward(const torch::Tensor& images) override;
  torch::Tensor regularization_loss() override;
  std::vector<LayerInfo> layers() const override;

 private:
  torch::nn::ModuleList layers_{nullptr};
  std::vector<std::pair<torch::Tensor, double>> regularized_;  // (kernel, l2)
  at::Generator dropout_gen_;
};

}  // namespace torchfit
