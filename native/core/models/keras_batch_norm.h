// Keras's BatchNormalization (momentum 0.99, epsilon 1e-3) with PyTorch's parameter
// names, so state_dicts exchange with torch.nn.BatchNorm*d; one module for 1-d and 2-d inputs.
#pragma once

#include <torch/nn/module.h>

namespace torchfit {

class KerasBatchNormImpl : public torch::nn::Module {
 public:
  // momentum is PyTorch's (the weight of the new batch): 1 - Keras's momentum.
  explicit KerasBatchNormImpl(int64_t features, double momentum = 0.01, double epsilon = 1e-3);
  torch::Tensor forward(const torch::Tensor& input);
  // Counts a training batch in num_batches_tracked, as forward does; for fused paths that
  // use this module's tensors without calling forward.
  void count_batch();
  int64_t features() const { return features_; }
  double momentum() const { return momentum_; }
  double epsilon() const { return epsilon_; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t features_;
  double momentum_, epsilon_;
};
TORCH_MODULE(KerasBatchNorm);

}  // namespace torchfit
