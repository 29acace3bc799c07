#include "core/kernels/residual_block_blocked.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "core/kernels/batch_norm_blocked.h"
#include "core/kernels/batch_norm_train.h"
#include "core/kernels/buffer_pool.h"
#include "core/kernels/conv_blocked_ops.h"
#include "core/kernels/engine.h"

namespace torchfit::kernels {

#if defined(TORCHFIT_WITH_DNNL)

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
using conv_ops::Problem;

ConvGeometry2d with_relu(ConvGeometry2d g, bool relu) {
  g.relu = relu;
  return g;
}

bool float_stats(const torch::Tensor& m, const torch::Tensor& v, int64_t c) {
  return m.defined() && v.defined() && m.is_contiguous() && v.is_contiguous() && m.scalar_type() == torch::kFloat32 &&
         v.scalar_type() == torch::kFloat32 && m.numel() == c && v.numel() == c;
}

bool vector_of(const torch::Tensor& t, int64_t n) {
  return t.defined() && t.dim() == 1 && t.size(0) == n && t.scalar_type() == torch::kFloat32 && t.device().is_cpu();
}

// A convolution weight (O, `in`, kh, kw) and bias (O) for an input of h x w pixels.
bool weight_ok(const torch::Tensor& w, const torch::Tensor& b, int64_t in, const ConvGeometry2d& g, int64_t h,
               int64_t wd) {
  return w.defined() && w.dim() == 4 && w.size(1) == in && w.scalar_type() == torch::kFloat32 && w.device().is_cpu() &&
         vector_of(b, w.size(0)) && g.stride >= 1 && g.pad_top >= 0 && g.pad_bottom >= 0 && g.pad_left >= 0 &&
         g.pad_right >= 0 && h + g.pad_top + g.pad_bottom >= w.size(2) && wd + g.pad_left + g.pad_right >= w.size(3);
}

// Parameters in the Function's argument order (TensorList: autograd edges in this order).
std::vector<torch::Tensor> tensors_of(const ResidualBlockParams& p) {
  std::vector<torch::Tensor> t{p.gamma1, p.beta1, p.weight1, p.bias1, p.gamma2, p.beta2, p.weight2, p.bias2};
  if (p.weight_s.defined()) t.insert(t.end(), {p.weight_s, p.bias_s});
  return t;
}

struct Shape {
  int64_t n, c, h, w;
};

// A convolution of an h x w input with this geometry: its output size, or 0 where it has none.
std::pair<int64_t, int64_t> conv_out(int64_t h, int64_t w, const torch::Tensor& weight, const ConvGeometry2d& g) {
  const int64_t ph = h + g.pad_top + g.pad_bottom, pw = w + g.pad_left + g.pad_right;
  if (g.stride < 1 || ph < weight.size(2) || pw < weight.size(3)) return {0, 0};
  return {(ph - weight.size(2)) / g.stride + 1, (pw - weight.size(3)) / g.stride + 1};
}

// Whether one block takes an input of shape s (blocked, s.c channels); s becomes its output's.
// With `compiled`, also whether oneDNN has compiled kernels for each of its convolutions
// (conv_ops::has_compiled_kernels): what a model asks; the tests' comparisons do without.
bool block_fits(Shape& s, const ResidualBlockParams& p, bool compiled) {
  if (!weight_ok(p.weight1, p.bias1, s.c, p.g1, s.h, s.w) || !vector_of(p.gamma1, s.c) || !vector_of(p.beta1, s.c) ||
      !float_stats(p.running_mean1, p.running_var1, s.c) || s.n * s.h * s.w < 2) {
    return false;
  }
  const int64_t mid = p.weight1.size(0);
  const auto [h1, w1] = conv_out(s.h, s.w, p.weight1, p.g1);
  if (h1 < 1 || w1 < 1 || s.n * h1 * w1 < 2 || !vector_of(p.gamma2, mid) || !vector_of(p.beta2, mid) ||
      !float_stats(p.running_mean2, p.running_var2, mid) || !weight_ok(p.weight2, p.bias2, mid, p.g2, h1, w1)) {
    return false;
  }
  const auto [h2, w2] = conv_out(h1, w1, p.weight2, p.g2);
  const int64_t out = p.weight2.size(0);
  if (p.weight_s.defined()) {
    if (!weight_ok(p.weight_s, p.bias_s, s.c, p.gs, s.h, s.w) || p.weight_s.size(0) != out ||
        conv_out(s.h, s.w, p.weight_s, p.gs) != std::make_pair(h2, w2)) {
      return false;
    }
  } else if (out != s.c || h2 != s.h || w2 != s.w) {
    return false;
  }
  if (h2 < 1 || w2 < 1) return false;
  if (compiled) {
    using conv_ops::has_compiled_kernels;
    if (!has_compiled_kernels(Problem(s.n, s.h, s.w, p.weight1, true, with_relu(p.g1, false), false)) ||
        !has_compiled_kernels(Problem(s.n, h1, w1, p.weight2, true, with_relu(p.g2, true), true)) ||
        (p.weight_s.defined() &&
         !has_compiled_kernels(Problem(s.n, s.h, s.w, p.weight_s, true, with_relu(p.gs, false), false)))) {
      return false;
    }
  }
  s = {s.n, out, h2, w2};
  return true;
}

bool chain_fits(const torch::Tensor& x, const std::vector<ResidualBlockParams>& chain, bool compiled) {
  if (!torch::GradMode::is_enabled() || !is_blocked(x) || chain.empty() || !chain[0].weight1.defined() ||
      x.size(1) != (chain[0].weight1.size(1) + engine_block() - 1) / engine_block()) {
    return false;
  }
  Shape s{x.size(0), chain[0].weight1.size(1), x.size(2), x.size(3)};
  for (const auto& p : chain) {
    if (!block_fits(s, p, compiled)) return false;
  }
  return true;
}

class ResidualBlock : public torch::autograd::Function<ResidualBlock> {
 public:
  // t: tensors_of(p); p supplies the running statistics, geometries and flags.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList t,
                               const ResidualBlockParams& p) {
    RECORD_FUNCTION("torchfit::residual_block_blocked", std::vector<c10::IValue>({x}));
    const bool projection = t.size() == 10;
    const auto &gamma1 = t[0], &beta1 = t[1], &w1 = t[2], &b1 = t[3];
    const auto &gamma2 = t[4], &beta2 = t[5], &w2 = t[6], &b2 = t[7];
    auto a = recycled_empty(x.sizes());
    const auto s1 = bn_train_forward(x, gamma1, beta1, p.running_mean1, p.running_var1, p.momentum, p.eps, true, a);
    const Problem p1(a, w1, true, with_relu(p.g1, false), false);
    auto y = conv_ops::forward(p1, a, w1, b1, {}, true);
    auto b = recycled_empty(y.sizes());
    const auto s2 = bn_train_forward(y, gamma2, beta2, p.running_mean2, p.running_var2, p.momentum, p.eps, false, b);
    torch::Tensor skip = x;
    if (projection) skip = conv_ops::forward(Problem(x, t[8], true, with_relu(p.gs, false), false), x, t[8], t[9], {}, true);
    const Problem p2(b, w2, true, with_relu(p.g2, true), true);
    auto out = conv_ops::forward(p2, b, w2, b2, skip, true);

    ctx->save_for_backward({x, a, y, b, out, gamma1, w1, gamma2, w2, projection ? t[8] : torch::Tensor()});
    ctx->saved_data["lanes1"] = s1.lanes;
    ctx->saved_data["lanes2"] = s2.lanes;
    ctx->saved_data["geometry"] = std::vector<int64_t>{
        p.g1.stride, p.g1.pad_top, p.g1.pad_bottom, p.g1.pad_left, p.g1.pad_right,
        p.g2.stride, p.g2.pad_top, p.g2.pad_bottom, p.g2.pad_left, p.g2.pad_right,
        p.gs.stride, p.gs.pad_top, p.gs.pad_bottom, p.gs.pad_left, p.gs.pad_right};
    ctx->saved_data["flags"] = std::vector<int64_t>{projection, p.input_is_relu, p.grad_out_masked};
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::residual_block_blocked_backward", std::vector<c10::IValue>());
    const auto s = ctx->get_saved_variables();
    const auto &x = s[0], &a = s[1], &y = s[2], &b = s[3], &out = s[4];
    const auto &gamma1 = s[5], &w1 = s[6], &gamma2 = s[7], &w2 = s[8], &ws = s[9];
    const auto geo = ctx->saved_data["geometry"].toIntVector();
    const auto flags = ctx->saved_data["flags"].toIntVector();
    const auto geometry = [&](int i, bool relu) {
      return ConvGeometry2d{geo[i], geo[i + 1], geo[i + 2], geo[i + 3], geo[i + 4], relu};
    };
    const bool projection = flags[0] != 0, input_is_relu = flags[1] != 0, grad_out_masked = flags[2] != 0;
    const Problem p1(a, w1, true, geometry(0, false), false);
    const Problem p2(b, w2, true, geometry(5, true), true);

    // The gradient at conv2's output, after the block's closing ReLU.
    auto g = grads[0].contiguous();
    if (!grad_out_masked) g = conv_ops::relu_backward(p2, out, g);
    const auto [dw2, db2] = conv_ops::backward_weights(p2, b, g);
    auto d = conv_ops::backward_data(p2, w2, g, b.sizes());
    // bn2's input gradient, in place.
    const auto bn2 = bn_train_backward(y, d, BnTrainSaved{ctx->saved_data["lanes2"].toTensor()}, gamma2, false, {},
                                       false, d);
    const auto [dw1, db1] = conv_ops::backward_weights(p1, a, d);
    auto dx = conv_ops::backward_data(p1, w1, d, a.sizes());
    // The shortcut's share of x's gradient.
    torch::Tensor residual = g, dws, dbs;
    if (projection) {
      const Problem ps(x, ws, true, geometry(10, false), false);
      std::tie(dws, dbs) = conv_ops::backward_weights(ps, x, g);
      residual = conv_ops::backward_data(ps, ws, g, x.sizes());
    }
    // bn1 (through its ReLU), plus the shortcut's share, masked by the ReLU that made x: in place.
    const auto bn1 = bn_train_backward(x, dx, BnTrainSaved{ctx->saved_data["lanes1"].toTensor()}, gamma1, true,
                                       residual, input_is_relu, dx);
    tensor_list out_grads{dx, bn1.dgamma, bn1.dbeta, dw1, db1, bn2.dgamma, bn2.dbeta, dw2, db2};
    if (projection) out_grads.insert(out_grads.end(), {dws, dbs});
    out_grads.emplace_back();  // the parameters struct
    return out_grads;
  }
};

}  // namespace

bool residual_block_blocked_applies(const torch::Tensor& x, const ResidualBlockParams& p) {
  return residual_blocks_blocked_apply(x, {p});
}

bool residual_blocks_blocked_apply(const torch::Tensor& x, const std::vector<ResidualBlockParams>& chain) {
  return chain_fits(x, chain, true);
}

bool residual_block_blocked_valid(const torch::Tensor& x, const ResidualBlockParams& p) {
  return chain_fits(x, {p}, false);
}

torch::Tensor residual_block_blocked(const torch::Tensor& x, const ResidualBlockParams& p) {
  TORCH_CHECK(residual_block_blocked_valid(x, p), "residual_block_blocked: not a block the engine can compute");
  const auto t = tensors_of(p);
  std::vector<torch::Tensor> contiguous;
  for (const auto& v : t) contiguous.push_back(v.contiguous());
  return ResidualBlock::apply(x, at::TensorList(contiguous), p);
}

#else

bool residual_block_blocked_applies(const torch::Tensor&, const ResidualBlockParams&) { return false; }
bool residual_blocks_blocked_apply(const torch::Tensor&, const std::vector<ResidualBlockParams>&) { return false; }
bool residual_block_blocked_valid(const torch::Tensor&, const ResidualBlockParams&) { return false; }
torch::Tensor residual_block_blocked(const torch::Tensor&, const ResidualBlockParams&) {
  TORCH_CHECK(false, "residual_block_blocked: built without oneDNN");
}

#endif

}  // namespace torchfit::kernels
