#include "core/kernels/conv_blocked.h"

#include <ATen/record_function.h>
#include <sstream>
#include <torch/autograd.h>

#include "core/kernels/buffer_pool.h"
#include "core/kernels/engine.h"
#include "core/kernels/onednn.h"

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

int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t before, int64_t after) {
  return (in + before + after - kernel) / stride + 1;
}

bool shape_ok(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, const ConvGeometry2d& g) {
  if (!engine_available() || !weight.defined() || weight.dim() != 4 || weight.scalar_type() != torch::kFloat32 ||
      !weight.device().is_cpu() || !x.defined() || !x.device().is_cpu() || x.scalar_type() != torch::kFloat32) {
    return false;
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0) || bias.scalar_type() != torch::kFloat32)) {
    return false;
  }
  const int64_t in_channels = weight.size(1);
  const bool layout_ok = x.dim() == 5 ? is_blocked(x) && x.size(1) == (in_channels + engine_block() - 1) / engine_block()
                                      : x.dim() == 4 && x.size(1) == in_channels &&
                                            !(torch::GradMode::is_enabled() && x.requires_grad());
  if (!layout_ok || x.size(0) < 1 || g.stride < 1 || g.pad_top < 0 || g.pad_bottom < 0 || g.pad_left < 0 ||
      g.pad_right < 0) {
    return false;
  }
  const int64_t h = x.size(2) + g.pad_top + g.pad_bottom, w = x.size(3) + g.pad_left + g.pad_right;
  return h >= weight.size(2) && w >= weight.size(3);
}

#if defined(TORCHFIT_WITH_DNNL)

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace dn = onednn;

// One convolution problem: every dimension, and the descriptors oneDNN is asked about.
struct Problem {
  int64_t n, ic, ih, iw, oc, oh, ow, kh, kw;
  ConvGeometry2d g;
  bool plain_src, has_bias, has_residual;

  Problem(const torch::Tensor& x, const torch::Tensor& weight, bool bias, const ConvGeometry2d& geo, bool residual)
      : n(x.size(0)), ic(weight.size(1)), ih(x.size(2)), iw(x.size(3)), oc(weight.size(0)), kh(weight.size(2)),
        kw(weight.size(3)), g(geo), plain_src(x.dim() == 4), has_bias(bias), has_residual(residual) {
    oh = out_size(ih, kh, g.stride, g.pad_top, g.pad_bottom);
    ow = out_size(iw, kw, g.stride, g.pad_left, g.pad_right);
  }

  std::string key() const {
    std::ostringstream k;
    k << n << ',' << ic << ',' << ih << ',' << iw << ',' << oc << ',' << kh << ',' << kw << ",s" << g.stride << ",p"
      << g.pad_top << ',' << g.pad_bottom << ',' << g.pad_left << ',' << g.pad_right << ",r" << g.relu << ",b"
      << has_bias << ",a" << has_residual << ",plain" << plain_src;
    return k.str();
  }
  dnnl::memory::desc src() const { return dn::desc({n, ic, ih, iw}, plain_src ? dn::tag::nchw : dn::blocked_tag()); }
  dnnl::memory::desc dst() const { return dn::desc({n, oc, oh, ow}, dn::blocked_tag()); }
  dnnl::memory::desc weights_any() const { return dn::desc({oc, ic, kh, kw}, dn::tag::any); }
  dnnl::memory::desc weights_plain() const { return dn::desc({oc, ic, kh, kw}, dn::tag::oihw); }
  dnnl::memory::desc bias() const { return has_bias ? dn::desc({oc}, dn::tag::x) : dnnl::memory::desc(); }
  dn::dims strides() const { return {g.stride, g.stride}; }
  dn::dims pad_l() const { return {g.pad_top, g.pad_left}; }
  dn::dims pad_r() const { return {g.pad_bottom, g.pad_right}; }

  dnnl::convolution_forward::primitive_desc forward_pd(bool training) const {
    const dnnl::convolution_forward::desc d(
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
        dnnl::algorithm::convolution_direct, src(), weights_any(), bias(), dst(), strides(), pad_l(), pad_r());
    auto attr = dn::base_attr();
    dnnl::post_ops ops;
    if (has_residual) ops.append_binary(dnnl::algorithm::binary_add, dst());
    if (g.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
    return dnnl::convolution_forward::primitive_desc(d, attr, dn::engine());
  }
};

// Weights (O, I, kh, kw) in the layout a primitive asked for.
torch::Tensor weights_for(const Problem& p, const torch::Tensor& weight, const dnnl::memory::desc& wanted) {
  if (wanted == p.weights_plain()) return weight;
  auto out = dn::empty_for(wanted);
  dn::reorder(p.weights_plain(), weight, wanted, out);
  return out;
}

torch::Tensor forward_impl(const Problem& p, const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias, const torch::Tensor& residual, bool training) {
  RECORD_FUNCTION("torchfit::conv2d_blocked", std::vector<c10::IValue>({x}));
  const auto entry = dn::cached("conv_fwd|" + std::to_string(training) + "|" + p.key(), [&] {
    const auto pd = p.forward_pd(training);
    return dn::Entry{dnnl::convolution_forward(pd), pd.scratchpad_desc(), {pd.weights_desc()}};
  });
  auto out = recycled_empty(dn::blocked_shape(p.n, p.oc, p.oh, p.ow));
  const auto w = weights_for(p, weight, entry->extra[0]);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dn::memory(p.src(), x)},
                                             {DNNL_ARG_WEIGHTS, dn::memory(entry->extra[0], w)},
                                             {DNNL_ARG_DST, dn::memory(p.dst(), out)}};
  if (p.has_bias) args.emplace(DNNL_ARG_BIAS, dn::memory(p.bias(), bias));
  if (p.has_residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, dn::memory(p.dst(), residual));
  dn::execute(*entry, std::move(args));
  return out;
}

// dy masked by the saved ReLU output (y > 0), in oneDNN's vectorised eltwise backward.
torch::Tensor relu_backward(const Problem& p, const torch::Tensor& y, const torch::Tensor& dy) {
  const auto md = p.dst();
  const auto entry = dn::cached("relu_bwd|" + dn::key_of(md), [&] {
    const dnnl::eltwise_forward::primitive_desc hint(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
                                    md, 0.f),
        dn::engine());
    const dnnl::eltwise_backward::primitive_desc pd(
        dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.f), dn::base_attr(),
        dn::engine(), hint);
    return dn::Entry{dnnl::eltwise_backward(pd), pd.scratchpad_desc(), {}};
  });
  auto out = recycled_empty(dy.sizes());
  dn::execute(*entry, {{DNNL_ARG_DST, dn::memory(md, y)},
                       {DNNL_ARG_DIFF_DST, dn::memory(md, dy)},
                       {DNNL_ARG_DIFF_SRC, dn::memory(md, out)}});
  return out;
}

torch::Tensor backward_data(const Problem& p, const torch::Tensor& weight, const torch::Tensor& dy,
                            at::IntArrayRef x_sizes) {
  const auto entry = dn::cached("conv_bwd_data|" + p.key(), [&] {
    const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, p.src(), p.weights_any(), p.dst(),
                                                  p.strides(), p.pad_l(), p.pad_r());
    const dnnl::convolution_backward_data::primitive_desc pd(d, dn::base_attr(), dn::engine(), p.forward_pd(true));
    return dn::Entry{dnnl::convolution_backward_data(pd), pd.scratchpad_desc(), {pd.weights_desc()}};
  });
  auto dx = recycled_empty(x_sizes);
  const auto w = weights_for(p, weight, entry->extra[0]);
  dn::execute(*entry, {{DNNL_ARG_DIFF_DST, dn::memory(p.dst(), dy)},
                       {DNNL_ARG_WEIGHTS, dn::memory(entry->extra[0], w)},
                       {DNNL_ARG_DIFF_SRC, dn::memory(p.src(), dx)}});
  return dx;
}

std::pair<torch::Tensor, torch::Tensor> backward_weights(const Problem& p, const torch::Tensor& x,
                                                         const torch::Tensor& dy) {
  const auto entry = dn::cached("conv_bwd_weights|" + p.key(), [&] {
    const dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, p.src(), p.weights_any(),
                                                     p.bias(), p.dst(), p.strides(), p.pad_l(), p.pad_r());
    const dnnl::convolution_backward_weights::primitive_desc pd(d, dn::base_attr(), dn::engine(), p.forward_pd(true));
    return dn::Entry{dnnl::convolution_backward_weights(pd), pd.scratchpad_desc(), {pd.diff_weights_desc()}};
  });
  const auto& wanted = entry->extra[0];
  auto dweight = torch::empty({p.oc, p.ic, p.kh, p.kw}, torch::kFloat32);
  const bool plain = wanted == p.weights_plain();
  auto dw = plain ? dweight : dn::empty_for(wanted);
  torch::Tensor dbias;
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dn::memory(p.src(), x)},
                                             {DNNL_ARG_DIFF_DST, dn::memory(p.dst(), dy)},
                                             {DNNL_ARG_DIFF_WEIGHTS, dn::memory(wanted, dw)}};
  if (p.has_bias) {
    dbias = torch::empty({p.oc}, torch::kFloat32);
    args.emplace(DNNL_ARG_DIFF_BIAS, dn::memory(p.bias(), dbias));
  }
  dn::execute(*entry, std::move(args));
  if (!plain) dn::reorder(wanted, dw, p.weights_plain(), dweight);
  return {dweight, dbias};
}

class Conv2dBlocked : public torch::autograd::Function<Conv2dBlocked> {
 public:
  // bias is always defined (zeros for a layer without one): libtorch 1.13's Function takes
  // undefined tensors only as an empty optional, which would shift needs_input_grad's indices.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const c10::optional<torch::Tensor>& residual_in,
                               ConvGeometry2d g) {
    const torch::Tensor residual = residual_in.has_value() ? *residual_in : torch::Tensor();
    const Problem p(x, weight, true, g, residual.defined());
    auto out = forward_impl(p, x, weight, bias, residual, /*training=*/true);
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

bool conv2d_blocked_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                            const ConvGeometry2d& g) {
  return shape_ok(x, weight, bias, g);
}

torch::Tensor conv2d_blocked(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             const ConvGeometry2d& g, const torch::Tensor& residual) {
  TORCH_CHECK(shape_ok(x, weight, bias, g), "conv2d_blocked: this convolution is not one the engine takes");
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
  return forward_impl(Problem(xc, wc, bc.defined(), g, residual.defined()), xc, wc, bc, residual, /*training=*/false);
#else
  return {};
#endif
}

}  // namespace torchfit::kernels
