// The L2 penalty of a deep ResNet's 21-87 kernels without autograd: its value in one call
// (each tensor summed in double), and its gradient added straight into the kernels' .grad
// after backward. Through autograd the same penalty cost ~6 small ops per kernel each way, and
// even as one op its backward allocated a gradient per kernel that autograd then summed with
// the convolution's into a third tensor (ResNet-44: 6.6 ms a step, most of it page faults).
#pragma once

#include <torch/types.h>
#include <vector>

namespace torchfit::kernels {

// Whether these take the two calls below: non-empty, all CPU float32 and contiguous.
bool squared_sum_applies(const std::vector<torch::Tensor>& tensors);

// sum_i sum(w_i^2) as a float32 scalar with no autograd graph.
torch::Tensor squared_sum(const std::vector<torch::Tensor>& tensors);

// w_i.grad += scale * w_i for each tensor, in place (w_i.grad = scale * w_i where undefined).
void add_scaled_to_grads(const std::vector<torch::Tensor>& tensors, double scale);

}  // namespace torchfit::kernels
