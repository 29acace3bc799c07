#include "core/tools/compare.h"

#include <ATen/Parallel.h>
#include <cmath>

#include "core/errors.h"
#include "core/init.h"
#include "core/kernels/cnn_stem.h"
#include "core/kernels/conv1ch.h"
#include "core/kernels/kernel_table.h"
#include "core/kernels/narrow_linear.h"
#include "core/kernels/activation_bn_pool.h"
#include "core/models/classifier.h"
#include "core/optimizer.h"
#include "core/trainer.h"

namespace torchfit::kernels {
namespace {

// One set of results per path, in the same order: fused float32, plain float32, plain float64.
using Results = std::vector<torch::Tensor>;
enum Path { kFused, kPlain, kDouble };

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const auto d = (a.detach().to(torch::kFloat64) - b.detach().to(torch::kFloat64)).abs();
  // NaN anywhere must fail a comparison, never pass it.
  return torch::isfinite(d).all().item<bool>() ? d.max().item<double>() : INFINITY;
}

}  // namespace

std::vector<Difference> differences(const std::vector<std::string>& names, const Results (&r)[3]) {
  std::vector<Difference> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto &f = r[kFused][i], &p = r[kPlain][i], &d = r[kDouble][i];
    if (!f.defined() || !p.defined() || !d.defined() || f.sizes() != p.sizes() || p.sizes() != d.sizes()) {
      throw Error("ERR_NATIVE", "compareKernels: '" + names[i] + "' is missing or has another shape in one path");
    }
    out.push_back({names[i], max_abs_diff(f, p), max_abs_diff(f, d), max_abs_diff(p, d),
                   d.numel() > 0 ? d.abs().max().item<double>() : 0.0, d.numel()});
  }
  return out;
}

namespace {

// Restores the thread count and the kernel choice when the comparison ends.
class Settings {
 public:
  explicit Settings(const CompareSpec& spec) : threads_(at::get_num_threads()) {
    if (spec.threads > 0) at::set_num_threads(spec.threads);
    if (!force_kernels(spec.isa.c_str())) throw Error("ERR_INVALID_OPTION", "kernels '" + spec.isa + "' are not available here");
  }
  ~Settings() {
    force_kernels("");
    at::set_num_threads(threads_);
  }

 private:
  int threads_;
};

torch::ScalarType dtype_of(Path path) { return path == kDouble ? torch::kFloat64 : torch::kFloat32; }

// A fresh leaf copy, so no path shares a tensor (or its .grad) with another.
torch::Tensor leaf(const torch::Tensor& t, torch::ScalarType dtype, bool requires_grad) {
  return t.to(dtype, /*non_blocking=*/false, /*copy=*/true).requires_grad_(requires_grad);
}

std::vector<Difference> compare_conv(const CompareSpec& s, at::Generator& gen) {
  const auto x0 = torch::rand({s.batch, 1, s.height, s.width}, gen);
  const auto w0 = torch::randn({s.channels, 1, 3, 3}, gen) * 0.5;
  const auto b0 = torch::randn({s.channels}, gen) * 0.1;
  const int64_t oh = s.height + 2 * s.pad - 2, ow = s.width + 2 * s.pad - 2;
  const auto upstream = torch::randn({s.batch, s.channels, oh, ow}, gen);
  Results r[3];
  for (const Path path : {kFused, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    auto x = leaf(x0, dtype, s.input_grad);
    auto w = leaf(w0, dtype, true);
    auto b = leaf(b0, dtype, true);
    if (path == kFused && !conv1ch3x3_applies(x, w, b, 1, s.pad)) {
      throw Error("ERR_INVALID_OPTION", "compareKernels: conv1ch does not apply to this shape");
    }
    auto out = path == kFused ? conv1ch3x3(x, w, b, s.pad) : torch::conv2d(x, w, b, 1, s.pad);
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, w.grad(), b.grad(), s.input_grad ? x.grad() : torch::zeros({1}, dtype)};
  }
  return differences({"output", "grad_weight", "grad_bias", "grad_input"}, r);
}

std::vector<Difference> compare_activation_bn_pool(const CompareSpec& s, PoolActivation act, at::Generator& gen) {
  // Pre-activations spread like a conv's, some saturating the sigmoid (and half of them zero after ReLU).
  const auto z0 = torch::randn({s.batch, s.channels, s.height, s.width}, gen) * 3;
  auto gamma0 = torch::rand({s.channels}, gen) + 0.5;
  if (s.negative_gamma) gamma0 = gamma0 * (torch::randint(2, {s.channels}, gen).to(torch::kFloat32) * 2 - 1);
  const auto beta0 = torch::randn({s.channels}, gen) * 0.5;
  const auto mean0 = torch::rand({s.channels}, gen);
  const auto var0 = torch::rand({s.channels}, gen) * 0.1 + 0.01;
  const auto upstream = torch::randn({s.batch, s.channels, s.height / 2, s.width / 2}, gen);
  Results r[3];
  for (const Path path : {kFused, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    // Inference as evaluate() runs it: no graph.
    torch::AutoGradMode grad_mode(s.training);
    auto z = leaf(z0, dtype, s.training);
    auto gamma = leaf(gamma0, dtype, s.training);
    auto beta = leaf(beta0, dtype, s.training);
    auto mean = leaf(mean0, dtype, false), var = leaf(var0, dtype, false);
    torch::Tensor out;
    if (path == kFused) {
      if (!activation_bn_pool_applies(z, gamma)) {
        throw Error("ERR_INVALID_OPTION", "compareKernels: activation_bn_pool does not apply");
      }
      out = activation_bn_pool(z, act, gamma, beta, mean, var, s.training, kKerasBnMomentum, kKerasBnEpsilon);
    } else {
      const auto a = act == PoolActivation::relu ? torch::relu(z) : torch::sigmoid(z);
      out = torch::max_pool2d(torch::batch_norm(a, gamma, beta, mean, var, s.training, kKerasBnMomentum,
                                                kKerasBnEpsilon, true),
                              2);
    }
    if (!s.training) {
      r[path] = {out, mean, var};
      continue;
    }
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, mean, var, z.grad(), gamma.grad(), beta.grad()};
  }
  if (!s.training) return differences({"output", "running_mean", "running_var"}, r);
  return differences({"output", "running_mean", "running_var", "grad_input", "grad_gamma", "grad_beta"}, r);
}

// conv1ch3x3 -> sigmoid -> BatchNorm -> max-pool, fused in one Function (training) or two.
std::vector<Difference> compare_stem(const CompareSpec& s, at::Generator& gen) {
  const auto x0 = torch::rand({s.batch, 1, s.height, s.width}, gen);
  const auto w0 = torch::randn({s.channels, 1, 3, 3}, gen);
  const auto b0 = torch::randn({s.channels}, gen) * 0.3;
  auto gamma0 = torch::rand({s.channels}, gen) + 0.5;
  if (s.negative_gamma) gamma0 = gamma0 * (torch::randint(2, {s.channels}, gen).to(torch::kFloat32) * 2 - 1);
  const auto beta0 = torch::randn({s.channels}, gen) * 0.5;
  const auto mean0 = torch::rand({s.channels}, gen);
  const auto var0 = torch::rand({s.channels}, gen) * 0.1 + 0.01;
  const int64_t oh = s.height + 2 * s.pad - 2, ow = s.width + 2 * s.pad - 2;
  const auto upstream = torch::randn({s.batch, s.channels, oh / 2, ow / 2}, gen);
  Results r[3];
  for (const Path path : {kFused, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    torch::AutoGradMode grad_mode(s.training);
    auto x = leaf(x0, dtype, false);
    auto w = leaf(w0, dtype, s.training), b = leaf(b0, dtype, s.training);
    auto gamma = leaf(gamma0, dtype, s.training), beta = leaf(beta0, dtype, s.training);
    auto mean = leaf(mean0, dtype, false), var = leaf(var0, dtype, false);
    torch::Tensor out;
    if (path == kFused) {
      if (!cnn_stem_applies(x, w, b, s.pad, gamma)) throw Error("ERR_INVALID_OPTION", "compareKernels: cnn_stem does not apply");
      out = cnn_stem(x, w, b, s.pad, gamma, beta, mean, var, s.training, kKerasBnMomentum, kKerasBnEpsilon);
    } else {
      out = torch::max_pool2d(torch::batch_norm(torch::sigmoid(torch::conv2d(x, w, b, 1, s.pad)), gamma, beta, mean,
                                                var, s.training, kKerasBnMomentum, kKerasBnEpsilon, true),
                              2);
    }
    if (!s.training) {
      r[path] = {out, mean, var};
      continue;
    }
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, mean, var, w.grad(), b.grad(), gamma.grad(), beta.grad()};
  }
  if (!s.training) return differences({"output", "running_mean", "running_var"}, r);
  return differences({"output", "running_mean", "running_var", "grad_weight", "grad_bias", "grad_gamma", "grad_beta"}, r);
}

std::vector<Difference> compare_linear(const CompareSpec& s, at::Generator& gen) {
  // batch x width inputs, `channels` outputs.
  const auto x0 = torch::randn({s.batch, s.width}, gen);
  const auto w0 = torch::randn({s.channels, s.width}, gen) * 0.05;
  const auto b0 = torch::randn({s.channels}, gen);
  const auto upstream = torch::randn({s.batch, s.channels}, gen);
  Results r[3];
  for (const Path path : {kFused, kPlain, kDouble}) {
    const auto dtype = dtype_of(path);
    auto x = leaf(x0, dtype, true), w = leaf(w0, dtype, true), b = leaf(b0, dtype, true);
    if (path == kFused && !narrow_linear_applies(x, w, b)) throw Error("ERR_INVALID_OPTION", "compareKernels: narrow_linear does not apply");
    auto out = path == kFused ? narrow_linear(x, w, b) : torch::linear(x, w, b);
    (out * upstream.to(dtype)).sum().backward();
    r[path] = {out, x.grad(), w.grad(), b.grad()};
  }
  return differences({"output", "grad_input", "grad_weight", "grad_bias"}, r);
}

// Three copies of the model from one seed: the first step's logits, loss and gradients, then
// after `steps` optimisation steps every parameter and buffer, and inference logits.
std::vector<Difference> compare_model(const CompareSpec& s, at::Generator& gen) {
  const auto& c = s.model;
  const auto x0 = torch::rand({s.batch, c.channels, c.height, c.width}, gen);
  const auto y = torch::randint(c.num_classes, {s.batch}, gen, torch::kInt64);
  std::vector<std::string> names;
  Results r[3];
  for (const Path path : {kFused, kPlain, kDouble}) {
    auto model = make_classifier(c, s.seed);
    model->to(dtype_of(path));
    model->set_fused_kernels(path == kFused);
    model->train();
    auto optimizer = make_optimizer(model->parameters(), s.optimizer);
    optimizer->set_fused_kernels(path == kFused);
    const auto x = x0.to(dtype_of(path));
    auto& out = r[path];
    const bool first = path == kFused;
    for (int step = 0; step < s.steps; ++step) {
      const auto [loss, logits] = train_step(*model, *optimizer, x, y);
      if (step > 0) continue;
      out.push_back(logits);
      out.push_back(loss);
      if (first) names.insert(names.end(), {"logits", "loss"});
      for (const auto& p : model->named_parameters()) {
        out.push_back(p.value().grad());
        if (first) names.push_back("grad " + p.key());
      }
    }
    for (const auto& p : model->named_parameters()) {
      out.push_back(p.value().detach().clone());
      if (first) names.push_back("final " + p.key());
    }
    for (const auto& b : model->named_buffers()) {
      out.push_back(b.value().clone());
      if (first) names.push_back("final " + b.key());
    }
    model->eval();
    torch::NoGradGuard no_grad;
    out.push_back(model->forward(x));
    if (first) names.push_back("eval logits");
  }
  return differences(names, r);
}

}  // namespace

std::vector<Difference> compare_kernels(const CompareSpec& spec) {
  Settings settings(spec);
  auto gen = make_cpu_generator(spec.seed);
  if (spec.op == "conv1ch") return compare_conv(spec, gen);
  if (spec.op == "sigmoid_bn_pool") return compare_activation_bn_pool(spec, PoolActivation::sigmoid, gen);
  if (spec.op == "relu_bn_pool") return compare_activation_bn_pool(spec, PoolActivation::relu, gen);
  if (spec.op == "cnn_stem") return compare_stem(spec, gen);
  if (spec.op == "linear") return compare_linear(spec, gen);
  if (spec.op == "model") return compare_model(spec, gen);
  if (spec.op == "conv_blocked") return compare_conv_blocked(spec, gen);
  if (spec.op == "bn_blocked") return compare_bn_blocked(spec, gen);
  if (spec.op == "block_blocked") return compare_block_blocked(spec, gen);
  throw Error("ERR_INVALID_OPTION", "compareKernels: unknown op '" + spec.op + "'");
}

}  // namespace torchfit::kernels
