// The engine's own Winograd F(4x4, 3x3) convolution (winograd_impl.h): stride 1, 3x3, on
// blocked activations whose channels fill whole blocks, any padding. Where it runs is decided
// by measurement (conv_blocked_ops.cc): unlike oneDNN 2.6's Winograd it takes the residual
// add, transforms its weights on every call (cheap next to the convolution, so it also
// serves inference), and keeps each batch of tiles' transforms in cache.
#pragma once

#include <torch/types.h>

#include <utility>

namespace torchfit::kernels::winograd {

// Whether this CPU has a build for the engine's block (AVX-512 for 16 lanes, AVX2 for 8).
bool available();

// y = relu?(conv(x) + bias + residual): x blocked (n, ic / lanes, ih, iw, lanes), weight
// (oc, ic, 3, 3), bias (oc) or undefined, residual undefined or y's shape; the output is
// oh x ow with pad_top / pad_left rows and columns of zeros before the input.
torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                      const torch::Tensor& residual, bool relu, int64_t oh, int64_t ow, int64_t pad_top,
                      int64_t pad_left);

// The input gradient of that convolution (ih x iw): the same loop on dy with the weights
// flipped and transposed.
torch::Tensor backward_data(const torch::Tensor& dy, const torch::Tensor& weight, int64_t ih, int64_t iw,
                            int64_t pad_top, int64_t pad_left);

// The weight gradient (oc, ic, 3, 3) and the bias gradient (oc) of that convolution from its
// input x and output gradient dy (both blocked): per tile the input window and the output
// gradient transformed, their products summed per position, then brought back to 3x3.
std::pair<torch::Tensor, torch::Tensor> backward_weights(const torch::Tensor& x, const torch::Tensor& dy, int64_t ic,
                                                         int64_t oc, int64_t pad_top, int64_t pad_left);

}  // namespace torchfit::kernels::winograd
