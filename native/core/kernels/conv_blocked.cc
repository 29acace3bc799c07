#include "core/kernels/conv_blocked.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "core/kernels/conv_blocked_ops.h"
#include "core/kernels/engine.h"

namespace torchfit::kernels {

std::pair<int64_t, int64_t> keras_padding(int64_t in, int64_t kernel, int64_t stride, bool same) {
  if (!same) return {0, 0};
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

std::pair<torch::Tensor, torch::Tensor> fold_batch_norm(const torch::Tensor& weight, const torch::Tensor& bias,
                                                        const torch::Tensor& gamma, const torch::Tensor& beta,
                                                        const torch::Tensor& running_mean,
                                                        const torch::Tensor& running_var, double eps) {
  const auto scale = gamma / torch::sqrt(running_var + eps);
  auto w = weight * scale.reshape({-1, 1, 1, 1});
  auto b = ((bias.defined() ? bias : torch::zeros_like(running_mean)) - running_mean) * scale + beta;
  return {w.contiguous(), b.contiguous()};
}

namespace {

// The weight, bias and geometry, for an input of h x w pixels: what every path checks.
bool params_ok(const torch::Tensor& weight, const torch::Tensor& bias, const ConvGeometry2d& g, int64_t h, int64_t w) {
  if (!engine_available() || !weight.defined() || weight.dim() != 4 || weight.scalar_type() != torch::kFloat32 ||
      !weight.device().is_cpu()) {
    return false;
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0) || bias.scalar_type() != torch::kFloat32)) {
    return false;
  }
  if (g.stride < 1 || g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 || g.pad_right < 0) return false;
  return h + g.pad_top + g.pad_bottom >= weight.size(2) && w + g.pad_left + g.pad_right >= weight.size(3);
}

bool shape_ok(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, const ConvGeometry2d& g) {
  if (!x.defined() || !x.device().is_cpu() || x.scalar_type() != torch::kFloat32 || x.dim() < 4 || x.size(0) < 1 ||
      !params_ok(weight, bias, g, x.size(2), x.size(3))) {
    return false;
  }
  const int64_t in_channels = weight.size(1);
  return x.dim() == 5 ? is_blocked(x) && x.size(1) == (in_channels + engine_block() - 1) / engine_block()
                      : x.dim() == 4 && x.size(1) == in_channels && !(torch::GradMode::is_enabled() && x.requires_grad());
}

#if defined(TORCHFIT_WITH_DNNL)

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace dn = onednn;

using conv_ops::Problem;
using conv_ops::backward_data;
using conv_ops::backward_weights;
using conv_ops::relu_backward;

class Conv2dBlocked : public torch::autograd::Function<Conv2dBlocked> {
 public:
  // bias is always defined (zeros for a layer without one): libtorch 1.13's Function takes
  // undefined tensors only as an empty optional, which would shift needs_input_grad's indices.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const c10::optional<torch::Tensor>& residual_in,
                               ConvGeometry2d g) {
    const torch::Tensor residual = residual_in.has_value() ? *residual_in : torch::Tensor();
    const Problem p(x, weight, true, g, residual.defined());
    auto out = conv_ops::forward(p, x, weight, bias, residual, /*training=*/true);
    ctx->save_for_backward({x, weight, g.relu ? out : torch::Tensor()});
    ctx->saved_data["geometry"] = std::vector<int64_t>{g.stride, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right, g.relu};
    ctx->saved_data["residual"] = residual.defined();
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::conv2d_blocked_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto geo = ctx->saved_data["geometry"].toIntVector();
    const ConvGeometry2d g{geo[0], geo[1], geo[2], geo[3], geo[4], geo[5] != 0};
    const Problem p(x, weight, true, g, ctx->saved_data["residual"].toBool());
    auto dy = grads[0].contiguous();
    if (g.relu) dy = relu_backward(p, saved[2], dy);
    torch::Tensor dx, dweight, dbias;
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) std::tie(dweight, dbias) = backward_weights(p, x, dy);
    if (ctx->needs_input_grad(0)) dx = backward_data(p, weight, dy, x.sizes());
    return {dx, ctx->needs_input_grad(1) ? dweight : torch::Tensor(), ctx->needs_input_grad(2) ? dbias : torch::Tensor(),
            p.has_residual && ctx->needs_input_grad(3) ? dy : torch::Tensor(), torch::Tensor()};
  }
};

#endif

}  // namespace

bool conv2d_blocked_valid(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          const ConvGeometry2d& g) {
  return shape_ok(x, weight, bias, g);
}

bool conv2d_blocked_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                            const ConvGeometry2d& g) {
#if defined(TORCHFIT_WITH_DNNL)
  return shape_ok(x, weight, bias, g) &&
         conv_ops::has_compiled_kernels(conv_ops::Problem(x, weight, bias.defined(), g, false));
#else
  return false;
#endif
}

torch::Tensor conv2d_nchw_via_engine(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                     const ConvGeometry2d& g) {
  if (!engine_available() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat32) return {};
  if (!x.requires_grad() && x.size(1) < engine_block()) {  // images: oneDNN's first-layer kernels read NCHW
    if (!conv2d_blocked_applies(x, weight, bias, g)) return {};
    return from_blocked(conv2d_blocked(x, weight, bias, g), weight.size(0));
  }
#if defined(TORCHFIT_WITH_DNNL)
  // Asked from the dimensions before the reorder into the blocked layout, which a layer the
  // engine refuses would waste.
  if (x.size(0) < 1 || x.size(1) != weight.size(1) || !params_ok(weight, bias, g, x.size(2), x.size(3)) ||
      !conv_ops::has_compiled_kernels(
          conv_ops::Problem(x.size(0), x.size(2), x.size(3), weight, bias.defined(), g, false))) {
    return {};
  }
  return from_blocked(conv2d_blocked(to_blocked(x), weight, bias, g), weight.size(0));
#else
  return {};
#endif
}

torch::Tensor conv2d_blocked(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             const ConvGeometry2d& g, const torch::Tensor& residual) {
  TORCH_CHECK(shape_ok(x, weight, bias, g), "conv2d_blocked: this convolution is not one the engine can compute");
#if defined(TORCHFIT_WITH_DNNL)
  const auto xc = x.contiguous(), wc = weight.contiguous();
  const auto bc = bias.defined() ? bias.contiguous() : bias;
  if (residual.defined()) {
    const Problem p(xc, wc, bc.defined(), g, true);
    TORCH_CHECK(is_blocked(residual) && residual.sizes() == at::IntArrayRef(dn::blocked_shape(p.n, p.oc, p.oh, p.ow)),
                "conv2d_blocked: the residual must be blocked with the output's shape");
  }
  const bool graph = torch::GradMode::is_enabled() &&
                     (xc.requires_grad() || wc.requires_grad() || (bc.defined() && bc.requires_grad()) ||
                      (residual.defined() && residual.requires_grad()));
  if (graph) {
    const auto b = bc.defined() ? bc : torch::zeros({wc.size(0)}, torch::kFloat32);
    return Conv2dBlocked::apply(xc, wc, b, residual.defined() ? c10::optional<torch::Tensor>(residual) : c10::nullopt, g);
  }
  return conv_ops::forward(Problem(xc, wc, bc.defined(), g, residual.defined()), xc, wc, bc, residual, /*training=*/false);
#else
  return {};
#endif
}

}  // namespace torchfit::kernels
