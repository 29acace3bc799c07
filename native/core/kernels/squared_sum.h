// sum_i sum(w_i^2) over a list of CPU float32 tensors as one autograd op (each tensor summed
// in double): the L2 penalty of a deep ResNet's 21-87 kernels in one call forward and one
// multiply per kernel backward, where square/sum/add per kernel costs ~6 small ops each way.
#pragma once

#include <torch/types.h>
#include <vector>

namespace torchfit::kernels {

// Whether squared_sum takes these: non-empty, all CPU float32 and contiguous.
bool squared_sum_applies(const std::vector<torch::Tensor>& tensors);

// A float32 scalar; its gradient for w_i is 2 * w_i * upstream.
torch::Tensor squared_sum(const std::vector<torch::Tensor>& tensors);

}  // namespace torchfit::kernels
