// The CNN's first block in one autograd Function: Conv2D(3x3, valid or same, one input
// channel) -> sigmoid -> BatchNormalization -> MaxPooling2D(2). The conv's output never
// exists as a tensor: each channel plane is convolved, squashed, measured and pooled while
// it is in cache, and the backward turns the pooled gradient straight into the conv's weight
// and bias gradients. Same semantics as conv1ch3x3 followed by activation_bn_pool with the sigmoid (see there);
// the images must not require grad (they never do in training: use those two otherwise).
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

bool cnn_stem_applies(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias,
                      int64_t pad, const torch::Tensor& bn_weight);

torch::Tensor cnn_stem(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias,
                       int64_t pad, const torch::Tensor& bn_weight, const torch::Tensor& bn_bias,
                       const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                       double momentum, double eps);

}  // namespace torchfit::kernels
