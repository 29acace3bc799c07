#include "core/kernels/conv_blocked_ops.h"

#if defined(TORCHFIT_WITH_DNNL)

#include <ATen/record_function.h>

#include "core/kernels/buffer_pool.h"

namespace torchfit::kernels::conv_ops {
namespace {

// A cached reorder between two weight layouts, keyed by its primitive's own key.
void reorder(const std::string& key, const dnnl::memory::desc& from, const torch::Tensor& src,
             const dnnl::memory::desc& to, const torch::Tensor& dst) {
  const auto entry = dn::cached("reorder|" + key, [&] {
    const dnnl::reorder::primitive_desc pd(dn::engine(), from, dn::engine(), to, dn::base_attr());
    return dn::Entry{dnnl::reorder(pd), pd.scratchpad_desc(), {}};
  });
  dn::execute(*entry, {{DNNL_ARG_FROM, dn::memory(from, src)}, {DNNL_ARG_TO, dn::memory(to, dst)}});
}

// Weights (O, I, kh, kw) in the layout the primitive of `key` asked for.
torch::Tensor weights_for(const std::string& key, const Problem& p, const torch::Tensor& weight,
                          const dnnl::memory::desc& wanted) {
  if (wanted == p.weights_plain()) return weight;
  auto out = dn::empty_for(wanted);
  reorder(key, p.weights_plain(), weight, wanted, out);
  return out;
}

}  // namespace

torch::Tensor forward(const Problem& p, const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias, const torch::Tensor& residual, bool training) {
  RECORD_FUNCTION("torchfit::conv2d_blocked", std::vector<c10::IValue>({x}));
  const std::string key = "conv_fwd|" + std::to_string(training) + "|" + p.key();
  const auto entry = dn::cached(key, [&] {
    const auto pd = p.forward_pd(training);
    return dn::Entry{dnnl::convolution_forward(pd), pd.scratchpad_desc(), {pd.weights_desc()}};
  });
  auto out = recycled_empty(dn::blocked_shape(p.n, p.oc, p.oh, p.ow));
  const auto w = weights_for(key, p, weight, entry->extra[0]);
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
  RECORD_FUNCTION("torchfit::relu_backward_blocked", std::vector<c10::IValue>({dy}));
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
  RECORD_FUNCTION("torchfit::conv_backward_data", std::vector<c10::IValue>({dy}));
  const std::string key = "conv_bwd_data|" + p.key();
  const auto entry = dn::cached(key, [&] {
    const dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, p.src(), p.weights_any(), p.dst(),
                                                  p.strides(), p.pad_l(), p.pad_r());
    const dnnl::convolution_backward_data::primitive_desc pd(d, dn::base_attr(), dn::engine(), p.forward_pd(true));
    return dn::Entry{dnnl::convolution_backward_data(pd), pd.scratchpad_desc(), {pd.weights_desc()}};
  });
  auto dx = recycled_empty(x_sizes);
  const auto w = weights_for(key, p, weight, entry->extra[0]);
  dn::execute(*entry, {{DNNL_ARG_DIFF_DST, dn::memory(p.dst(), dy)},
                       {DNNL_ARG_WEIGHTS, dn::memory(entry->extra[0], w)},
                       {DNNL_ARG_DIFF_SRC, dn::memory(p.src(), dx)}});
  return dx;
}

std::pair<torch::Tensor, torch::Tensor> backward_weights(const Problem& p, const torch::Tensor& x,
                                                         const torch::Tensor& dy) {
  RECORD_FUNCTION("torchfit::conv_backward_weights", std::vector<c10::IValue>({dy}));
  const std::string key = "conv_bwd_weights|" + p.key();
  const auto entry = dn::cached(key, [&] {
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
  if (!plain) reorder(key, wanted, dw, p.weights_plain(), dweight);
  return {dweight, dbias};
}

}  // namespace torchfit::kernels::conv_ops

#endif
