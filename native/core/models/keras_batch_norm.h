// Keras's BatchNormalization (momentum 0.99, epsilon 1e-3) with PyTorch's parameter
// names, so state_dicts exchange with torch.nn.BatchNorm*d; one module for 1-d and 2-d inputs.
#pragma once

#include <string>
#include <torch/nn/module.h>

#include "core/kernels/kernel_table.h"

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
  void set_momentum(double momentum) { momentum_ = momentum; }
  double epsilon() const { return epsilon_; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t features_;
  double momentum_, epsilon_;
};
TORCH_MODULE(KerasBatchNorm);

// act(z) -> bn -> MaxPool(2): the CNN's block after its conv (sigmoid) and its ReLU twin in
// layers models. With `fused`, one kernel where the shapes allow (kernels/activation_bn_pool.h),
// otherwise libtorch's ops in that order; the one place models make this choice.
torch::Tensor activation_bn_pool2x2(const torch::Tensor& z, kernels::PoolActivation act, KerasBatchNormImpl& bn,
                                    bool fused);

// Sets every KerasBatchNorm under `root` to `momentum` (PyTorch's terms): the presets' batchNormMomentum.
void set_batch_norm_momentum(torch::nn::Module& root, double momentum);

// Keras's momentum (1 - PyTorch's) as the layer tables print it: "momentum 0.99, epsilon 0.001".
std::string keras_batch_norm_text(double momentum, double epsilon);

}  // namespace torchfit
