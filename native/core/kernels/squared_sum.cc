#include "core/kernels/squared_sum.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

namespace torchfit::kernels {

bool squared_sum_applies(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return false;
  for (const auto& t : tensors) {
    if (!t.defined() || !t.device().is_cpu() || t.scalar_type() != torch::kFloat32 || !t.is_contiguous()) return false;
  }
  return true;
}

torch::Tensor squared_sum(const std::vector<torch::Tensor>& tensors) {
  TORCH_CHECK(squared_sum_applies(tensors), "squared_sum: CPU float32 contiguous tensors are needed");
  double total = 0;
  for (const auto& t : tensors) {
    const auto* p = t.data_ptr<float>();
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i) s += static_cast<double>(p[i]) * p[i];
    total += s;
  }
  return torch::scalar_tensor(static_cast<float>(total), torch::kFloat32);
}

void add_scaled_to_grads(const std::vector<torch::Tensor>& tensors, double scale) {
  TORCH_CHECK(squared_sum_applies(tensors), "add_scaled_to_grads: CPU float32 contiguous tensors are needed");
  RECORD_FUNCTION("torchfit::add_scaled_to_grads", std::vector<c10::IValue>());
  torch::NoGradGuard no_grad;
  const auto a = static_cast<float>(scale);
  for (auto t : tensors) {
    auto& grad = t.mutable_grad();
    if (!grad.defined()) {
      grad = t.detach() * a;
      continue;
    }
    if (!grad.is_contiguous() || grad.scalar_type() != torch::kFloat32) {
      grad.add_(t.detach(), a);
      continue;
    }
    // A serial loop: at most 590k values, where a parallel op would wake the other threads.
    const float* w = t.data_ptr<float>();
    float* g = grad.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i) g[i] += a * w[i];
  }
}

}  // namespace torchfit::kernels
