// The convolution engine's ops against libtorch's (compare.h): the same random inputs through
// to_blocked -> op -> from_blocked, through libtorch's float32 ops and through them in float64.
#include <torch/torch.h>

#include "core/errors.h"
#include "core/kernels/batch_norm_blocked.h"
#include "core/tools/compare.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/engine.h"
#include "core/kernels/residual_block_blocked.h"
#include "core/models/classifier.h"

namespace torchfit::kernels {
namespace {

using Results = std::vector<torch::Tensor>;
enum Path { kEngine, kPlain, kDouble };

torch::ScalarType dtype_of(Path path) { return path == kDouble ? torch::kFloat64 : torch::kFloat32; }

torch::Tensor leaf(const torch::Tensor& t, torch::ScalarType dtype, bool requires_grad) {
  return t.to(dtype, /*non_blocking=*/false, /*copy=*/true).requires_grad_(requires_grad);
}

void require_engine() {
  if (!engine_available()) throw Error("ERR_INVALID_OPTION", "compareKernels: the convolution engine is " + engine_description());
}

}  // namespace

std::vector<Difference> compare_conv_blocked(const CompareSpec& s, at::Generator& gen) {
  require_engine();
  const auto [top, bottom] = keras_padding(s.height, s.kernel, s.stride, s.same);
  const auto [left, right] = keras_padding(s.width, s.kernel, s.stride, s.same);
  const int64_t oh = (s.height + top + bottom - s.kernel) / s.stride + 1;
  const int64_t ow = (s.width + left + right - s.kernel) / s.stride + 1;
  const auto x0 = torch::randn({s.batch, s.channels, s.height, s.width}, gen);
  const auto w0 = torch::randn({s.out_channels, s.channels, s.kernel, s.kernel}, gen) /
                  std::sqrt(static_cast<double>(s.channels * s.kernel * s.kernel));
  const auto b0 = torch::randn({s.out_channels}, gen) * 0.1;
  const auto r0 = torch::randn({s.batch, s.out_channels, oh, ow}, gen);
  const auto upstream = torch::randn({s.batch, s.out_channels, oh, ow}, gen);
  const ConvGeometry2d g{s.stride, top, bottom, left, right, s.relu};
  Results r[3];
  for (const Path path : {kEngine, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    auto x = leaf(x0, dtype, true), w = leaf(w0, dtype, true), b = leaf(b0, dtype, true);
    auto res = leaf(r0, dtype, s.residual);
    torch::Tensor out;
    if (path == kEngine) {
      const auto xb = to_blocked(x);
      // Valid shapes whose oneDNN kernels are its reference code too (models leave those to libtorch).
      if (!conv2d_blocked_valid(xb, w, b, g)) throw Error("ERR_INVALID_OPTION", "compareKernels: conv_blocked does not apply");
      out = from_blocked(conv2d_blocked(xb, w, b, g, s.residual ? to_blocked(res) : torch::Tensor()), s.out_channels);
    } else {
      auto padded = torch::constant_pad_nd(x, {left, right, top, bottom}, 0);
      out = torch::conv2d(padded, w, b, s.stride);
      if (s.residual) out = out + res;
      if (s.relu) out = torch::relu(out);
    }
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, x.grad(), w.grad(), b.grad(), s.residual ? res.grad() : torch::zeros({1}, dtype)};
  }
  return differences({"output", "grad_input", "grad_weight", "grad_bias", "grad_residual"}, r);
}

std::vector<Difference> compare_bn_blocked(const CompareSpec& s, at::Generator& gen) {
  require_engine();
  // Activations with a channel-dependent offset and spread, as after a convolution.
  const auto x0 = torch::randn({s.batch, s.channels, s.height, s.width}, gen) * (torch::rand({1, s.channels, 1, 1}, gen) * 2 + 0.5) +
                  torch::randn({1, s.channels, 1, 1}, gen);
  const auto gamma0 = (torch::rand({s.channels}, gen) + 0.5) * (torch::randint(2, {s.channels}, gen).to(torch::kFloat32) * 2 - 1);
  const auto beta0 = torch::randn({s.channels}, gen) * 0.5;
  const auto mean0 = torch::randn({s.channels}, gen) * 0.3;
  const auto var0 = torch::rand({s.channels}, gen) + 0.5;
  const auto upstream = torch::randn({s.batch, s.channels, s.height, s.width}, gen);
  Results r[3];
  for (const Path path : {kEngine, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    torch::AutoGradMode grad_mode(s.training);
    auto x = leaf(x0, dtype, s.training), gamma = leaf(gamma0, dtype, s.training), beta = leaf(beta0, dtype, s.training);
    auto mean = leaf(mean0, dtype, false), var = leaf(var0, dtype, false);
    torch::Tensor out;
    if (path == kEngine) {
      const auto xb = to_blocked(x);
      if (!batch_norm_blocked_applies(xb, gamma, s.training)) throw Error("ERR_INVALID_OPTION", "compareKernels: bn_blocked does not apply");
      out = from_blocked(batch_norm_blocked(xb, gamma, beta, mean, var, s.training, kKerasBnMomentum, kKerasBnEpsilon, s.relu),
                         s.channels);
    } else {
      out = torch::batch_norm(x, gamma, beta, mean, var, s.training, kKerasBnMomentum, kKerasBnEpsilon, true);
      if (s.relu) out = torch::relu(out);
    }
    if (!s.training) {
      r[path] = {out, mean, var};
      continue;
    }
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, mean, var, x.grad(), gamma.grad(), beta.grad()};
  }
  if (!s.training) return differences({"output", "running_mean", "running_var"}, r);
  return differences({"output", "running_mean", "running_var", "grad_input", "grad_gamma", "grad_beta"}, r);
}

std::vector<Difference> compare_block_blocked(const CompareSpec& s, at::Generator& gen) {
  require_engine();
  const int64_t c = s.channels, m = s.out_channels;
  const bool projection = s.stride != 1 || c != m;
  auto x0 = torch::randn({s.batch, c, s.height, s.width}, gen);
  if (s.input_relu) x0 = torch::relu(x0);  // exact zeros, as after the previous block
  // BatchNorm parameters away from the identity; convolution weights He-scaled.
  const auto bn = [&](int64_t n) {
    return std::vector<torch::Tensor>{(torch::rand({n}, gen) + 0.5) * (torch::randint(2, {n}, gen).to(torch::kFloat32) * 2 - 1),
                                      torch::randn({n}, gen) * 0.5, torch::randn({n}, gen) * 0.3,
                                      torch::rand({n}, gen) + 0.5};
  };
  const auto conv = [&](int64_t out, int64_t in, int64_t k) {
    return std::vector<torch::Tensor>{torch::randn({out, in, k, k}, gen) * std::sqrt(2.0 / static_cast<double>(in * k * k)),
                                      torch::randn({out}, gen) * 0.1};
  };
  const auto bn1 = bn(c), bn2 = bn(m), c1 = conv(m, c, 3), c2 = conv(m, m, 3), cs = conv(m, c, 1);
  const auto pad = [&](int64_t h, int64_t w, int64_t k, int64_t stride) {
    const auto [top, bottom] = keras_padding(h, k, stride, true);
    const auto [left, right] = keras_padding(w, k, stride, true);
    return ConvGeometry2d{stride, top, bottom, left, right, false};
  };
  const auto g1 = pad(s.height, s.width, 3, s.stride), gs = pad(s.height, s.width, 1, s.stride);
  const int64_t oh = (s.height + s.stride - 1) / s.stride, ow = (s.width + s.stride - 1) / s.stride;
  const auto g2 = pad(oh, ow, 3, 1);
  const auto upstream = torch::randn({s.batch, m, oh, ow}, gen);

  Results r[3];
  for (const Path path : {kEngine, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    const auto param = [&](const torch::Tensor& t) { return leaf(t, dtype, true); };
    const auto stat = [&](const torch::Tensor& t) { return leaf(t, dtype, false); };
    auto x = leaf(x0, dtype, true);
    auto gamma1 = param(bn1[0]), beta1 = param(bn1[1]), mean1 = stat(bn1[2]), var1 = stat(bn1[3]);
    auto gamma2 = param(bn2[0]), beta2 = param(bn2[1]), mean2 = stat(bn2[2]), var2 = stat(bn2[3]);
    auto w1 = param(c1[0]), b1 = param(c1[1]), w2 = param(c2[0]), b2 = param(c2[1]);
    auto ws = param(cs[0]), bs = param(cs[1]);
    torch::Tensor out;
    if (path == kEngine) {
      ResidualBlockParams p{gamma1, beta1, mean1, var1, w1, b1, g1, gamma2, beta2, mean2, var2, w2, b2, g2};
      if (projection) {
        p.weight_s = ws;
        p.bias_s = bs;
        p.gs = gs;
      }
      p.momentum = kKerasBnMomentum;
      p.eps = kKerasBnEpsilon;
      p.input_is_relu = s.input_relu;
      p.grad_out_masked = s.grad_out_masked;
      const auto xb = to_blocked(x);
      if (!residual_block_blocked_valid(xb, p)) throw Error("ERR_INVALID_OPTION", "compareKernels: block_blocked does not apply");
      out = from_blocked(residual_block_blocked(xb, p), m);
    } else {
      const auto conv2d = [](const torch::Tensor& in, const torch::Tensor& w, const torch::Tensor& b, const ConvGeometry2d& g) {
        return torch::conv2d(torch::constant_pad_nd(in, {g.pad_left, g.pad_right, g.pad_top, g.pad_bottom}, 0), w, b, g.stride);
      };
      const auto a = torch::relu(torch::batch_norm(x, gamma1, beta1, mean1, var1, true, kKerasBnMomentum, kKerasBnEpsilon, true));
      const auto y = conv2d(a, w1, b1, g1);
      const auto b = torch::batch_norm(y, gamma2, beta2, mean2, var2, true, kKerasBnMomentum, kKerasBnEpsilon, true);
      out = torch::relu(conv2d(b, w2, b2, g2) + (projection ? conv2d(x, ws, bs, gs) : x));
    }
    // The engine told grad_out_masked gets the upstream gradient through the output's ReLU already.
    const auto up = upstream.to(dtype);
    const auto grad_out = path == kEngine && s.grad_out_masked ? up * (out.detach() > 0).to(dtype) : up;
    (out * grad_out).sum().backward();
    // With input_relu the engine's input gradient is zero where x is; the references' alike.
    const auto dx = s.input_relu && path != kEngine ? x.grad() * (x > 0).to(dtype) : x.grad();
    auto& res = r[path];
    res = {out, dx, gamma1.grad(), beta1.grad(), w1.grad(), b1.grad(), gamma2.grad(), beta2.grad(), w2.grad(), b2.grad(),
           mean1, var1, mean2, var2};
    res.push_back(projection ? ws.grad() : torch::zeros({1}, dtype));
    res.push_back(projection ? bs.grad() : torch::zeros({1}, dtype));
  }
  return differences({"output", "grad_input", "grad_gamma1", "grad_beta1", "grad_weight1", "grad_bias1", "grad_gamma2",
                      "grad_beta2", "grad_weight2", "grad_bias2", "running_mean1", "running_var1", "running_mean2",
                      "running_var2", "grad_weight_shortcut", "grad_bias_shortcut"},
                     r);
}

}  // namespace torchfit::kernels
