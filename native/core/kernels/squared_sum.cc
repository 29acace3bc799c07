#include "core/kernels/squared_sum.h"

#include <torch/autograd.h>

namespace torchfit::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

double sum_of_squares(at::TensorList tensors) {
  double total = 0;
  for (const auto& t : tensors) {
    const auto* p = t.data_ptr<float>();
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i) s += static_cast<double>(p[i]) * p[i];
    total += s;
  }
  return total;
}

class SquaredSum : public torch::autograd::Function<SquaredSum> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList tensors) {
    ctx->save_for_backward(tensors.vec());
    return torch::scalar_tensor(static_cast<float>(sum_of_squares(tensors)), torch::kFloat32);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto upstream = 2 * grads[0];
    tensor_list out;
    for (const auto& t : saved) out.push_back(t * upstream);
    return out;
  }
};

}  // namespace

bool squared_sum_applies(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return false;
  for (const auto& t : tensors) {
    if (!t.defined() || !t.device().is_cpu() || t.scalar_type() != torch::kFloat32 || !t.is_contiguous()) return false;
  }
  return true;
}

torch::Tensor squared_sum(const std::vector<torch::Tensor>& tensors) {
  TORCH_CHECK(squared_sum_applies(tensors), "squared_sum: CPU float32 contiguous tensors are needed");
  bool graph = false;
  for (const auto& t : tensors) graph = graph || t.requires_grad();
  if (torch::GradMode::is_enabled() && graph) return SquaredSum::apply(at::TensorList(tensors));
  return torch::scalar_tensor(static_cast<float>(sum_of_squares(tensors)), torch::kFloat32);
}

}  // namespace torchfit::kernels
