#include "core/kernels/conv_blocked_ops.h"

#if defined(TORCHFIT_WITH_DNNL)

#include <ATen/record_function.h>

#include <mutex>
#include <unordered_map>

#include "core/kernels/buffer_pool.h"
#include "core/kernels/engine.h"
#include "core/kernels/winograd.h"

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

// A primitive descriptor for `pass`: Winograd where the rule asks for it and oneDNN has a
// kernel (F(4x4, 3x3), AVX-512 only in 2.6; it refuses some post-ops), direct otherwise.
// The cache keeps the outcome per problem, so the choice is made once and never varies.
template <typename Make>
auto with_algorithm(const Problem& p, Pass pass, const Make& make) {
  if (p.winograd_first(pass)) {
    try {
      return make(dnnl::algorithm::convolution_winograd);
    } catch (const dnnl::error&) {
      // unimplemented here: fall through to direct
    }
  }
  return make(dnnl::algorithm::convolution_direct);
}

// What both Winograd rules start from: F(4x4, 3x3) computes stride-1 3x3 convolutions of
// blocked inputs only.
bool winograd_shape(const Problem& p) { return p.kh == 3 && p.kw == 3 && p.g.stride == 1 && !p.plain_src; }

}  // namespace

// Winograd F(4x4, 3x3) multiplies 2.25x less than a direct 3x3 convolution but spends
// memory passes on its tile transforms; measured per layer of the ResNet (batch 128, 2
// threads, AVX-512 Xeon, docs/kernels.md), it pays for the weight gradient of every stride-1
// 3x3 layer with channels in whole 16-lane blocks (16->16 @28: 1.5-1.9 ms against 2.1-2.7
// direct); for the input gradient only from 64 channels in and out (64->64 @7: 0.9-1.3
// against 1.2-1.6; 128 channels: about 1.6x faster); for the forward from 32 x 64 channel
// pairs (the CNN's 32->64 on 13x13, 'valid': 1.0-1.2 against 1.6-3.0), while at 32->32 it
// was even and at 16->16 up to 1.9x slower than direct. Not for inference: its Winograd
// kernel wants the weights in a transformed layout whose reorder (1-3 ms for 64x64x3x3)
// would run on every call.
bool Problem::winograd_first(Pass pass) const {
  const bool shape = winograd_shape(*this) && ic % 16 == 0 && oc % 16 == 0;
  if (!shape || pass == Pass::inference) return false;
  if (pass == Pass::backward_weights) return true;
  if (pass == Pass::forward) return ic * oc >= 32 * 64;
  return ic >= 64 && oc >= 64;
}

// The engine's own Winograd (winograd.h) against oneDNN's direct kernels, per layer of the
// ResNet, batch 128, 2 threads, AVX-512 Xeon, weight transform included (docs/kernels.md):
// 0.64-0.68 of direct at 64->64 on 7x7 (oneDNN's own Winograd: about 0.8), 0.8-0.9 at
// 32->32 on 14x14, and 1.1-1.3 at 16->16 on 28x28, where the transforms cost as much as the
// multiplications save. It loses on small problems (under 64 tiles: the weight transform
// and the threads' start dominate) and where partial tiles waste over a quarter of the work
// (5x5 outputs compute 8x8). Its weight gradient pays from 16 channels: inside ResNet-20
// steps (2026-12-06, AMD EPYC with AVX-512) 1.5-1.9 ms against oneDNN's Winograd 2.1-2.7 at
// 16->16 on 28x28, 1.2 against 1.9 at 32->32 on 14x14, 1.3 against 1.5 at 64->64 on 7x7.
bool Problem::own_winograd(Pass pass) const {
  const int64_t lanes = engine_block();
  const bool shape = winograd_shape(*this) && lanes > 0 && ic % lanes == 0 && oc % lanes == 0 && g.pad_top <= 2 &&
                     g.pad_left <= 2 && oh >= 1 && ow >= 1;
  const int64_t least = pass == Pass::backward_weights ? 16 : 32;
  if (!shape || ic < least || oc < least || !winograd::available()) return false;
  const int64_t tiles_h = (oh + 3) / 4, tiles_w = (ow + 3) / 4;
  const bool enough = n * tiles_h * tiles_w >= 64;
  const bool filled = 4 * oh * ow >= 3 * (16 * tiles_h * tiles_w);  // at least 3/4 of the tiles' pixels
  return enough && filled;
}

bool has_compiled_kernels(const Problem& p) {
  static std::mutex mutex;
  static auto* known = new std::unordered_map<std::string, bool>();  // never destroyed, as the primitive cache
  const std::string key = p.key() + "|t" + std::to_string(dn::threads());
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = known->find(key);
    if (it != known->end()) return it->second;
  }
  const auto compiled = [](const std::string& impl) { return impl.find("ref") == std::string::npos; };
  bool ok = false;
  try {
    const auto fwd = p.forward_pd(true);
    const auto direct = dnnl::algorithm::convolution_direct;
    const dnnl::convolution_backward_weights::primitive_desc weights(
        dnnl::convolution_backward_weights::desc(direct, p.src(), p.weights_any(), p.bias(), p.dst(), p.strides(),
                                                 p.pad_l(), p.pad_r()),
        dn::base_attr(), dn::engine(), fwd);
    ok = compiled(fwd.impl_info_str()) && compiled(weights.impl_info_str());
    if (ok && !p.plain_src) {
      const dnnl::convolution_backward_data::primitive_desc data(
          dnnl::convolution_backward_data::desc(direct, p.src(), p.weights_any(), p.dst(), p.strides(), p.pad_l(),
                                                p.pad_r()),
          dn::base_attr(), dn::engine(), fwd);
      ok = compiled(data.impl_info_str());
    }
  } catch (const dnnl::error&) {
    ok = false;
  }
  std::lock_guard<std::mutex> lock(mutex);
  known->emplace(key, ok);
  return ok;
}

torch::Tensor forward(const Problem& p, const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias, const torch::Tensor& residual, bool training) {
  if (p.own_winograd(training ? Pass::forward : Pass::inference)) {
    return winograd::forward(x, weight, p.has_bias ? bias : torch::Tensor(), p.has_residual ? residual : torch::Tensor(),
                             p.g.relu, p.oh, p.ow, p.g.pad_top, p.g.pad_left);
  }
  RECORD_FUNCTION("torchfit::conv2d_blocked", std::vector<c10::IValue>({x}));
  const std::string key = "conv_fwd|" + std::to_string(training) + "|" + p.key();
  const auto entry = dn::cached(key, [&] {
    const auto pass = training ? Pass::forward : Pass::inference;
    const auto pd = with_algorithm(p, pass, [&](dnnl::algorithm a) { return p.forward_pd(training, a); });
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
  if (p.own_winograd(Pass::backward_data)) return winograd::backward_data(dy, weight, p.ih, p.iw, p.g.pad_top, p.g.pad_left);
  RECORD_FUNCTION("torchfit::conv_backward_data", std::vector<c10::IValue>({dy}));
  const std::string key = "conv_bwd_data|" + p.key();
  const auto entry = dn::cached(key, [&] {
    const auto pd = with_algorithm(p, Pass::backward_data, [&](dnnl::algorithm a) {
      const dnnl::convolution_backward_data::desc d(a, p.src(), p.weights_any(), p.dst(), p.strides(), p.pad_l(),
                                                    p.pad_r());
      return dnnl::convolution_backward_data::primitive_desc(d, dn::base_attr(), dn::engine(), p.forward_pd(true));
    });
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
  if (p.own_winograd(Pass::backward_weights)) {
    auto [dw, db] = winograd::backward_weights(x, dy, p.ic, p.oc, p.g.pad_top, p.g.pad_left);
    return {dw, p.has_bias ? db : torch::Tensor()};
  }
  RECORD_FUNCTION("torchfit::conv_backward_weights", std::vector<c10::IValue>({dy}));
  const std::string key = "conv_bwd_weights|" + p.key();
  const auto entry = dn::cached(key, [&] {
    const auto pd = with_algorithm(p, Pass::backward_weights, [&](dnnl::algorithm a) {
      const dnnl::convolution_backward_weights::desc d(a, p.src(), p.weights_any(), p.bias(), p.dst(), p.strides(),
                                                       p.pad_l(), p.pad_r());
      return dnnl::convolution_backward_weights::primitive_desc(d, dn::base_attr(), dn::engine(), p.forward_pd(true));
    });
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
