#include "core/kernels/conv1ch.h"

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

ConvGeometry geometry_of(const torch::Tensor& x, int64_t pad) { return {x.size(2), x.size(3), pad}; }

torch::Tensor forward_impl(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t pad) {
  RECORD_FUNCTION("torchfit::conv1ch3x3", std::vector<c10::IValue>({x}));
  const auto g = geometry_of(x, pad);
  const int64_t n = x.size(0), channels = weight.size(0);
  const int64_t oh = g.height + 2 * pad - 2, ow = g.width + 2 * pad - 2;
  auto out = recycled_empty({n, channels, oh, ow});
  const auto& k = kernels();
  const float* xp = x.data_ptr<float>();
  const float* wp = weight.data_ptr<float>();
  const float* bp = bias.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(conv_forward_scratch(g));
    for (int64_t i = begin; i < end; ++i) {
      k.conv_forward(xp + i * g.height * g.width, wp, bp, channels, g, scratch.data(), op + i * channels * oh * ow);
    }
  });
  return out;
}

// Gradients of weight and bias: per-image partial sums in double, added in image order,
// so the result does not depend on the thread count.
std::pair<torch::Tensor, torch::Tensor> grad_weight_impl(const torch::Tensor& x, const torch::Tensor& dout,
                                                         int64_t channels, int64_t pad) {
  const auto g = geometry_of(x, pad);
  const int64_t n = x.size(0), plane = dout.size(2) * dout.size(3);
  std::vector<double> parts(static_cast<size_t>(n * channels * 10), 0.0);  // 9 taps + bias per channel
  const auto& k = kernels();
  const float* xp = x.data_ptr<float>();
  const float* dp = dout.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(conv_forward_scratch(g));
    for (int64_t i = begin; i < end; ++i) {
      double* part = parts.data() + i * channels * 10;
      k.conv_grad_weight(xp + i * g.height * g.width, dp + i * channels * plane, channels, g, scratch.data(), part,
                         part + channels * 9);
    }
  });
  std::vector<double> total(static_cast<size_t>(channels * 10), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < channels * 10; ++j) total[j] += parts[i * channels * 10 + j];
  }
  auto dweight = torch::empty({channels, 1, 3, 3}, x.options());
  auto dbias = torch::empty({channels}, x.options());
  for (int64_t j = 0; j < channels * 9; ++j) dweight.data_ptr<float>()[j] = static_cast<float>(total[j]);
  for (int64_t c = 0; c < channels; ++c) dbias.data_ptr<float>()[c] = static_cast<float>(total[channels * 9 + c]);
  return {dweight, dbias};
}

torch::Tensor grad_input_impl(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& dout,
                              int64_t pad) {
  const auto g = geometry_of(x, pad);
  const int64_t n = x.size(0), channels = weight.size(0), plane = dout.size(2) * dout.size(3);
  auto dx = recycled_empty(x.sizes());
  const auto& k = kernels();
  const float* wp = weight.data_ptr<float>();
  const float* dp = dout.data_ptr<float>();
  float* dxp = dx.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(conv_grad_input_scratch(g, channels));
    for (int64_t i = begin; i < end; ++i) {
      k.conv_grad_input(dp + i * channels * plane, wp, channels, g, scratch.data(), dxp + i * g.height * g.width);
    }
  });
  return dx;
}

class Conv1ch3x3 : public torch::autograd::Function<Conv1ch3x3> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, int64_t pad) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["pad"] = pad;
    return forward_impl(x, weight, bias, pad);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::conv1ch3x3_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const int64_t pad = ctx->saved_data["pad"].toInt();
    const auto dout = grads[0].contiguous();
    torch::Tensor dx, dweight, dbias;
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) {
      std::tie(dweight, dbias) = grad_weight_impl(x, dout, weight.size(0), pad);
    }
    if (ctx->needs_input_grad(0)) dx = grad_input_impl(x, weight, dout, pad);
    return {dx, ctx->needs_input_grad(1) ? dweight : torch::Tensor(), ctx->needs_input_grad(2) ? dbias : torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool conv1ch3x3_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                        int64_t stride, int64_t pad) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 &&
         bias.defined() && bias.scalar_type() == torch::kFloat32 && x.dim() == 4 && x.size(1) == 1 &&
         weight.dim() == 4 && weight.size(1) == 1 && weight.size(2) == 3 && weight.size(3) == 3 && stride == 1 &&
         (pad == 0 || pad == 1) && x.size(2) + 2 * pad >= 3 && x.size(3) + 2 * pad >= 3;
}

torch::Tensor conv1ch3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t pad) {
  const bool graph = torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!graph) return forward_impl(x.contiguous(), weight.contiguous(), bias.contiguous(), pad);
  return Conv1ch3x3::apply(x.contiguous(), weight.contiguous(), bias.contiguous(), pad);
}

}  // namespace torchfit::kernels
