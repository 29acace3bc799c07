// Keras's BatchNormalization (momentum 0.99, epsilon 1e-3) with PyTorch's parameter
// names, so state_dicts exchange with torch.nn.BatchNorm*d; one module for 1-d and 2-d inputs.
#pragma once

#include <torch/nn/module.h>

namespace torchfit {

class KerasBatchNormImpl : public torch::nn::Module {
 public:
  explicit KerasBatchNormImpl(int64_t features);
  torch::Tensor forward(const torch::Tensor& input);
  // Counts a training batch in num_batches_tracked, as forward does; for fused paths that
  // use this module's tensors without calling forward.
  void count_batch();
  int64_t features() const { return features_; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t features_;
};
TORCH_MODULE(KerasBatchNorm);

}  // namespace torchfit
