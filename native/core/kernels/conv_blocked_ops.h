// The engine's convolution steps on blocked activations (oneDNN primitives, cached), shared
// by the autograd Functions that use them: conv2d_blocked (one layer) and
// residual_block_blocked (a whole residual block with one backward). Only with oneDNN.
#pragma once

#if defined(TORCHFIT_WITH_DNNL)

#include <string>
#include <torch/types.h>

#include "core/kernels/conv_blocked.h"
#include "core/kernels/onednn.h"

namespace torchfit::kernels::conv_ops {

namespace dn = onednn;

inline int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t before, int64_t after) {
  return (in + before + after - kernel) / stride + 1;
}

enum class Pass { inference, forward, backward_data, backward_weights };

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
  // A blocked input of n images of h x w, before any tensor exists (a model's checks).
  Problem(int64_t n_, int64_t h, int64_t w, const torch::Tensor& weight, bool bias, const ConvGeometry2d& geo,
          bool residual)
      : n(n_), ic(weight.size(1)), ih(h), iw(w), oc(weight.size(0)), kh(weight.size(2)), kw(weight.size(3)), g(geo),
        plain_src(false), has_bias(bias), has_residual(residual) {
    oh = out_size(ih, kh, g.stride, g.pad_top, g.pad_bottom);
    ow = out_size(iw, kw, g.stride, g.pad_left, g.pad_right);
  }

  // Every dimension and flag (built without streams: it is made on every call).
  std::string key() const {
    std::string k;
    k.reserve(96);
    for (const int64_t v : {n, ic, ih, iw, oc, kh, kw, g.stride, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right}) {
      k += std::to_string(v);
      k += ',';
    }
    k += g.relu ? 'r' : '-';
    k += has_bias ? 'b' : '-';
    k += has_residual ? 'a' : '-';
    k += plain_src ? 'p' : '-';
    return k;
  }
  dnnl::memory::desc src() const { return dn::desc({n, ic, ih, iw}, plain_src ? dn::tag::nchw : dn::blocked_tag()); }
  dnnl::memory::desc dst() const { return dn::desc({n, oc, oh, ow}, dn::blocked_tag()); }
  dnnl::memory::desc weights_any() const { return dn::desc({oc, ic, kh, kw}, dn::tag::any); }
  dnnl::memory::desc weights_plain() const { return dn::desc({oc, ic, kh, kw}, dn::tag::oihw); }
  dnnl::memory::desc bias() const { return has_bias ? dn::desc({oc}, dn::tag::x) : dnnl::memory::desc(); }
  dn::dims strides() const { return {g.stride, g.stride}; }
  dn::dims pad_l() const { return {g.pad_top, g.pad_left}; }
  dn::dims pad_r() const { return {g.pad_bottom, g.pad_right}; }

  // Whether `pass` asks oneDNN for Winograd first (the measurements are in conv_blocked_ops.cc); direct otherwise,
  // and direct where this CPU or these post-ops have no Winograd kernel.
  bool winograd_first(Pass pass) const;
  // Whether `pass` runs the engine's own Winograd loop (winograd.h) instead of oneDNN.
  bool own_winograd(Pass pass) const;

  dnnl::convolution_forward::primitive_desc forward_pd(bool training,
                                                       dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct) const {
    const dnnl::convolution_forward::desc d(
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, algorithm, src(),
        weights_any(), bias(), dst(), strides(), pad_l(), pad_r());
    auto attr = dn::base_attr();
    dnnl::post_ops ops;
    if (has_residual) ops.append_binary(dnnl::algorithm::binary_add, dst());
    if (g.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
    return dnnl::convolution_forward::primitive_desc(d, attr, dn::engine());
  }
};


// Whether oneDNN has compiled kernels, not its reference code, for every pass this problem
// trains with (forward, weight gradient, and the input gradient unless the input is NCHW):
// a blocked input of 3 channels, for one, gets `ref:any`, hundreds of times slower than
// libtorch. Decided once per problem and thread count.
bool has_compiled_kernels(const Problem& p);

// out = relu?(conv(x) + bias + residual): blocked, a fresh (recycled) buffer. `training`
// picks oneDNN's forward_training kernel (the one its backward kernels pair with).
torch::Tensor forward(const Problem& p, const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias, const torch::Tensor& residual, bool training);
// dy masked by a saved ReLU output (y > 0).
torch::Tensor relu_backward(const Problem& p, const torch::Tensor& y, const torch::Tensor& dy);
// The input gradient, x_sizes shaped.
torch::Tensor backward_data(const Problem& p, const torch::Tensor& weight, const torch::Tensor& dy,
                            at::IntArrayRef x_sizes);
// The weight (O, I, kh, kw) and bias (undefined without a bias) gradients.
std::pair<torch::Tensor, torch::Tensor> backward_weights(const Problem& p, const torch::Tensor& x,
                                                         const torch::Tensor& dy);

}  // namespace torchfit::kernels::conv_ops

#endif
