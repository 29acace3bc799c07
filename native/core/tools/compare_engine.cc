// The convolution engine's ops against libtorch's (compare.h): the same random inputs through
// to_blocked -> op -> from_blocked, through libtorch's float32 ops and through them in float64.
#include <torch/torch.h>

#include "core/errors.h"
#include "core/kernels/batch_norm_blocked.h"
#include "core/tools/compare.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/engine.h"
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
      if (!conv2d_blocked_applies(xb, w, b, g)) throw Error("ERR_INVALID_OPTION", "compareKernels: conv_blocked does not apply");
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

}  // namespace torchfit::kernels
