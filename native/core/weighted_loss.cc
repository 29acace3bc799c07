#include "core/weighted_loss.h"

namespace torchfit {

torch::Tensor batch_cross_entropy(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& weights) {
  const auto log_probs = torch::log_softmax(logits, 1);
  if (!weights.defined()) return torch::nll_loss(log_probs, y);
  const auto per_sample = torch::nll_loss(log_probs, y, {}, at::Reduction::None);
  return (per_sample * weights.to(per_sample.scalar_type())).sum() / static_cast<double>(y.size(0));
}

torch::Tensor summed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& weights) {
  const auto log_probs = torch::log_softmax(logits, 1);
  if (!weights.defined()) return torch::nll_loss(log_probs, y, {}, at::Reduction::Sum).to(torch::kFloat64);
  const auto per_sample = torch::nll_loss(log_probs, y, {}, at::Reduction::None);
  return (per_sample.to(torch::kFloat64) * weights.to(torch::kFloat64)).sum();
}

}  // namespace torchfit
