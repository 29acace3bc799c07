// BatchNorm over the channels of a blocked activation (engine.h), optionally followed by a
// ReLU in the same pass. Training normalises by the batch's mean and (biased) variance and
// moves the running statistics as torch::batch_norm does: running = (1 - momentum) * running
// + momentum * batch, the variance taken unbiased (times n / (n - 1)); it runs our own loops
// (batch_norm_train.h). Inference uses the running statistics, in oneDNN's batch
// normalisation. An autograd Function; gradients for the input, the scale and the shift.
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

// The engine available, x blocked with gamma.size(0) channels, CPU float32 parameters and
// statistics, and in training more than one value per channel.
bool batch_norm_blocked_applies(const torch::Tensor& x, const torch::Tensor& gamma, bool training);

torch::Tensor batch_norm_blocked(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                                 const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                                 double momentum, double eps, bool relu);

}  // namespace torchfit::kernels
