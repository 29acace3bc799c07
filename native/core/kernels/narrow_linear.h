// A Linear layer with few outputs and many inputs (the ResNet's Flatten(12,544) -> Dense(5)
// head) as an autograd Function. OpenBLAS handles the three skinny products of such a layer
// poorly (most of its time goes to packing the large operand, on one thread); here each is
// one parallel pass over the large operand. Same result as torch::linear to float32 rounding.
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

// CPU float32, x (N, F), weight (K, F) with K <= 8, a bias of K.
bool narrow_linear_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

torch::Tensor narrow_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace torchfit::kernels
