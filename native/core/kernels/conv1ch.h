// Conv2d with one input channel, a 3x3 kernel, stride 1 and `pad` zeros on every side
// (0: Keras 'valid', 1: 'same'): the CNN's first convolution and the ResNet's stem. libtorch
// spends ~20 ms per CNN batch on this 25M-MAC layer (oneDNN does poorly with one input
// channel); the direct kernels in kernels_impl.h do it in a few. Same result as
// torch::conv2d to float32 rounding, gradients included (an autograd Function).
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

// Whether conv1ch3x3 handles this case: CPU float32, x (N, 1, H, W), weight (C, 1, 3, 3),
// a bias, stride 1, pad 0 or 1, and an output of at least 1x1.
bool conv1ch3x3_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                        int64_t stride, int64_t pad);

torch::Tensor conv1ch3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t pad);

}  // namespace torchfit::kernels
