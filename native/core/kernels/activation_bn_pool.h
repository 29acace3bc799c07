// maxpool2x2(batch_norm(act(z))) in one autograd Function, act the sigmoid or ReLU: the
// CNN's "Conv2D(activation='sigmoid') -> BatchNormalization -> MaxPooling2D(2)" after the conv,
// and the same block with ReLU in a layers model. Unfused, libtorch makes five passes over
// the activations forward and five more backward, and builds an int64 index tensor for the
// pool plus a zero-filled gradient; here the forward writes the activation once and reads it
// once, the backward reads it once.
//
// Training mode: batch statistics (biased variance for the normalisation), running
// statistics updated in place exactly as torch::batch_norm does (momentum is PyTorch's, the
// weight of the new batch; unbiased variance). Inference: running statistics. Max-pool
// floors odd sizes, and the first maximum of a window wins ties, as ATen's does.
#pragma once

#include <torch/types.h>

#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {

// CPU float32 (N, C, H, W) with H, W >= 2; weight and bias of C float32 values.
bool activation_bn_pool_applies(const torch::Tensor& z, const torch::Tensor& weight);

torch::Tensor activation_bn_pool(const torch::Tensor& z, PoolActivation act, const torch::Tensor& weight, const torch::Tensor& bias,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                              double momentum, double eps);

}  // namespace torchfit::kernels
