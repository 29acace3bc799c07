// The classification loss with Keras's per-sample weights (sample_weight, and class_weight
// turned into per-sample weights): each sample's cross-entropy times its weight, summed and
// divided by the number of samples (Keras's SUM_OVER_BATCH_SIZE). PyTorch's
// nll_loss(weight=...) divides by the sum of the weights instead; Keras's form is kept.
#pragma once

#include <torch/types.h>

namespace torchfit {

// Mean cross-entropy of a batch of logits (N, C) against class indices y (N). weights (N):
// Keras's weighted form; undefined: the plain mean (exactly torch::nll_loss's, as before).
torch::Tensor batch_cross_entropy(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& weights);

// The (weighted) sum over the batch in float64, for means over a whole data set.
torch::Tensor summed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& weights);

}  // namespace torchfit
