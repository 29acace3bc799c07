#include "core/kernels/narrow_linear.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>
#include <vector>

#include "core/kernels/buffer_pool.h"
#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Smallest share of a thread: rows for the per-row passes, 8-column chunks for the weight gradient.
constexpr int64_t kRowGrain = 8;
constexpr int64_t kColumnGrain = 64;

torch::Tensor forward_impl(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  RECORD_FUNCTION("torchfit::narrow_linear", std::vector<c10::IValue>({x}));
  const int64_t n = x.size(0), in = x.size(1), out = weight.size(0);
  auto y = torch::empty({n, out}, x.options());
  const auto& k = kernels();
  const float* xp = x.data_ptr<float>();
  const float* wp = weight.data_ptr<float>();
  const float* bp = bias.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  at::parallel_for(0, n, kRowGrain, [&](int64_t begin, int64_t end) {
    k.linear_forward_rows(xp + begin * in, wp, bp, end - begin, in, out, yp + begin * out);
  });
  return y;
}

class NarrowLinear : public torch::autograd::Function<NarrowLinear> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    return forward_impl(x, weight, bias);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::narrow_linear_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto dy = grads[0].contiguous();
    const int64_t n = x.size(0), in = x.size(1), out = weight.size(0);
    const auto& k = kernels();
    const float* xp = x.data_ptr<float>();
    const float* wp = weight.data_ptr<float>();
    const float* dyp = dy.data_ptr<float>();
    torch::Tensor dx, dweight, dbias;
    if (ctx->needs_input_grad(0)) {
      dx = recycled_empty(x.sizes());
      float* dxp = dx.data_ptr<float>();
      at::parallel_for(0, n, kRowGrain, [&](int64_t begin, int64_t end) {
        k.linear_grad_input_rows(dyp + begin * out, wp, end - begin, in, out, dxp + begin * in);
      });
    }
    if (ctx->needs_input_grad(1)) {
      // Each column is summed over all rows by one thread: the same result for any thread count.
      dweight = torch::empty_like(weight);
      float* dwp = dweight.data_ptr<float>();
      const int64_t chunks = (in + 7) / 8;
      at::parallel_for(0, chunks, kColumnGrain, [&](int64_t begin, int64_t end) {
        k.linear_grad_weight_cols(xp, dyp, n, in, out, begin * 8, std::min(in, end * 8), dwp);
      });
    }
    if (ctx->needs_input_grad(2)) dbias = dy.sum(0);
    return {dx, dweight, dbias};
  }
};

}  // namespace

bool narrow_linear_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.dim() == 2 && weight.dim() == 2 &&
         weight.scalar_type() == torch::kFloat32 && weight.size(0) >= 1 && weight.size(0) <= kMaxNarrowOutputs &&
         weight.size(1) == x.size(1) && bias.defined() && bias.scalar_type() == torch::kFloat32 &&
         bias.numel() == weight.size(0);
}

torch::Tensor narrow_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const bool graph = torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!graph) return forward_impl(x.contiguous(), weight.contiguous(), bias.contiguous());
  return NarrowLinear::apply(x.contiguous(), weight.contiguous(), bias.contiguous());
}

}  // namespace torchfit::kernels
