// A whole residual block of ResNet v1 (the notebook's conv_first=False order) on the engine's
// blocked activations, as one autograd Function for training:
//   a = relu(bn1(x)), y = conv1(a), b = bn2(y), out = relu(conv2(b) + shortcut(x)),
// the shortcut a 1x1 convolution or x itself. The layer-by-layer ops (conv2d_blocked,
// batch_norm_blocked) compute the same; one backward for the block saves what autograd
// cannot: the sum of x's two gradients (through bn1 and through the shortcut) and the mask of
// the ReLU that produced x are folded into bn1's backward pass, so the input gradient is
// written once instead of three times.
//
// The mask contract between consecutive blocks: with input_is_relu the input gradient comes
// back already zero where x <= 0 (x being the previous block's ReLU output), and the previous
// block, told grad_out_masked, skips its own ReLU backward. Only a model that wires blocks
// back to back may set them.
#pragma once

#include <torch/types.h>
#include <vector>

#include "core/kernels/conv_blocked.h"

namespace torchfit::kernels {

struct ResidualBlockParams {
  // bn1 (+ ReLU) and conv1: its stride and padding in g1.
  torch::Tensor gamma1, beta1, running_mean1, running_var1, weight1, bias1;
  ConvGeometry2d g1;
  // bn2 (no ReLU) and conv2 (the residual add and ReLU are the op's own: g2.relu is ignored).
  torch::Tensor gamma2, beta2, running_mean2, running_var2, weight2, bias2;
  ConvGeometry2d g2;
  // The 1x1 projection shortcut; undefined weight: x itself.
  torch::Tensor weight_s, bias_s;
  ConvGeometry2d gs;
  double momentum = 0.01, eps = 1e-3;  // torch::batch_norm's: momentum weighs the new batch
  bool input_is_relu = false, grad_out_masked = false;
};

// Training with autograd on: x blocked, every BatchNorm and convolution one the engine takes,
// the block's output and shortcut shapes agreeing, float32 running statistics, and compiled
// oneDNN kernels (not its reference code) for every convolution.
bool residual_block_blocked_applies(const torch::Tensor& x, const ResidualBlockParams& p);
// The same without asking about oneDNN's kernels: what residual_block_blocked can compute.
bool residual_block_blocked_valid(const torch::Tensor& x, const ResidualBlockParams& p);

// The same for a chain of blocks, each feeding the next (what a model checks before it wires
// them with the mask contract).
bool residual_blocks_blocked_apply(const torch::Tensor& x, const std::vector<ResidualBlockParams>& chain);

// The block's output (blocked); moves both BatchNorms' running statistics.
torch::Tensor residual_block_blocked(const torch::Tensor& x, const ResidualBlockParams& p);

}  // namespace torchfit::kernels
