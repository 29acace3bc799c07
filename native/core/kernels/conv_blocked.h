// A 2-d convolution on the engine's blocked activations (engine.h), with the bias, a residual
// add and a ReLU fused into the same pass (oneDNN post-ops): out = relu?(conv(x) + b + residual).
// Any kernel size, stride and padding (top/bottom and left/right apart, so TensorFlow's
// asymmetric 'same' needs no padded copy). An autograd Function: its backward runs oneDNN's
// backward-data and backward-weights kernels on the same layout, the ReLU's mask taken from
// the saved output. Same result as libtorch's conv2d (+ add, relu) to float32 rounding.
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

struct ConvGeometry2d {
  int64_t stride = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool relu = false;  // after the bias and the residual
};

// Whether conv2d_blocked can compute this: the engine available, CPU float32, weight (O, I,
// kh, kw), bias undefined or (O), x blocked with I channels or, for a first layer on images,
// NCHW (N, I, H, W) and not requiring a gradient (oneDNN's input gradient into NCHW with few
// channels is its slow reference code), and an output of at least 1x1.
bool conv2d_blocked_valid(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          const ConvGeometry2d& g);
// Whether a model should use it: valid, and oneDNN has compiled kernels for every pass (its
// reference code, picked e.g. for a blocked 3-channel input, is hundreds of times slower
// than libtorch's path).
bool conv2d_blocked_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                            const ConvGeometry2d& g);

// The output is blocked; `residual`, when defined, is blocked with the output's shape.
torch::Tensor conv2d_blocked(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             const ConvGeometry2d& g, const torch::Tensor& residual = {});

// An NCHW layer through the engine, entering its blocked layout and leaving it around this one
// convolution (for models whose other layers read NCHW); images with fewer channels than a
// block and no gradient go in as NCHW, where oneDNN has first-layer kernels. Undefined where
// the engine does not take the layer (conv2d_blocked_applies): the caller runs libtorch's.
torch::Tensor conv2d_nchw_via_engine(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                     const ConvGeometry2d& g);

// Inference: a convolution followed by a BatchNorm on running statistics is one convolution,
// the BatchNorm's scale s = gamma / sqrt(var + eps) multiplied into each output channel's
// weights and its shift into the bias: b' = (b - mean) * s + beta. Returns {weight', bias'}.
std::pair<torch::Tensor, torch::Tensor> fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& bias,
                                                        const torch::Tensor& gamma, const torch::Tensor& beta,
                                                        const torch::Tensor& running_mean,
                                                        const torch::Tensor& running_var, double eps);

// TensorFlow/Keras padding of one dimension: 'same' puts the odd extra row or column at the
// bottom/right; 'valid' pads nothing. Returns {before, after}.
std::pair<int64_t, int64_t> keras_padding(int64_t in, int64_t kernel, int64_t stride, bool same);

}  // namespace torchfit::kernels
