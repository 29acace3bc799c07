// The BatchNorm arithmetic shared by the two sigmoid -> BatchNorm -> max-pool Functions
// (activation_bn_pool.cc after any conv, cnn_stem.cc fused with the 1-channel conv): batch
// statistics from per-plane sums, running statistics as torch::batch_norm updates them, the
// pooled output, and the gradients of gamma and beta with the coefficients of the input's.
#pragma once

#include <cstdint>
#include <torch/types.h>
#include <vector>

namespace torchfit::kernels {

// Per channel: y = alpha * s + shift (s the sigmoid), alpha = gamma * invstd.
struct ChannelAffine {
  std::vector<float> mean, invstd, alpha, shift;
};

// Training: planes (n images x c channels of `plane` elements each, their sums and squared
// deviations from the plane's own mean) combined in image order; updates the running statistics.
ChannelAffine batch_statistics(const std::vector<double>& sums, const std::vector<double>& m2s, int64_t n, int64_t c,
                               int64_t plane, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                               double eps);

// Inference: from the running statistics.
ChannelAffine running_statistics(const torch::Tensor& weight, const torch::Tensor& bias,
                                 const torch::Tensor& running_mean, const torch::Tensor& running_var, double eps);

// +1, -1 or 0 per channel: the sign of BatchNorm's scale, which decides the pooling winner.
std::vector<int> scale_signs(const torch::Tensor& weight);

// out (n, c, pooled) = alpha[c] * s_at + shift[c].
void pooled_output(const torch::Tensor& s_at, const ChannelAffine& affine, const torch::Tensor& out);

// Backward through BatchNorm and max-pool, from the pooled gradient and the winners' sigmoid:
// dgamma, dbeta, and per channel dx = a*dy + b*(s - mean) + c.
struct PoolBnGrads {
  torch::Tensor dgamma, dbeta;
  std::vector<float> a, b, c;
};
PoolBnGrads pool_bn_gradients(const torch::Tensor& dpooled, const torch::Tensor& s_at, const torch::Tensor& mean,
                              const torch::Tensor& invstd, const torch::Tensor& weight, int64_t plane);

}  // namespace torchfit::kernels
