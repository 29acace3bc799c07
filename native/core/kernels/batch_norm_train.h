// Training BatchNorm on the engine's blocked activations (engine.h), our own loops
// (bn_blocked_table.h) instead of oneDNN's: the backward pass can then take a residual
// gradient to add and the mask of the ReLU that produced x in the same pass, which is what a
// residual block's input gradient needs (residual_block_blocked.h), and the forward's ReLU
// needs no workspace (the backward recomputes its mask from x).
//
// Statistics as torch::batch_norm in training: the batch mean and biased variance normalise,
// the running statistics move by `momentum` with the variance taken unbiased. Sums are taken
// in double over float partials, split by the thread count only (same inputs and thread count,
// same bits).
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

// Per lane (channel; lanes past C hold zeros): the rows of a (4, lanes) float tensor.
struct BnTrainSaved {
  torch::Tensor lanes;  // mean, 1 / sqrt(var + eps), scale = gamma / sqrt(var + eps), shift = beta - mean * scale
};

// y (blocked, x's shape, may be a fresh recycled buffer) = relu?(BatchNorm(x)); updates the
// running statistics.
BnTrainSaved bn_train_forward(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                              double eps, bool relu, const torch::Tensor& y);

struct BnTrainGrads {
  torch::Tensor dgamma, dbeta;
};

// dx = BatchNorm's input gradient for dy (through the ReLU when relu), plus `residual` when
// defined, then zero where x <= 0 when mask_input. dx may be dy itself or residual itself.
BnTrainGrads bn_train_backward(const torch::Tensor& x, const torch::Tensor& dy, const BnTrainSaved& saved,
                               const torch::Tensor& gamma, bool relu, const torch::Tensor& residual, bool mask_input,
                               const torch::Tensor& dx);

}  // namespace torchfit::kernels
