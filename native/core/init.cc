#include "core/init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>

namespace torchfit {

std::pair<double, double> keras_fans(const torch::Tensor& weight) {
  const auto dims = weight.sizes();
  double receptive = 1;
  for (size_t i = 2; i < dims.size(); ++i) receptive *= static_cast<double>(dims[i]);
  const double fan_in = static_cast<double>(dims[1]) * receptive;
  const double fan_out = static_cast<double>(dims[0]) * receptive;
  return {fan_in, fan_out};
}

void glorot_uniform_(torch::Tensor weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto [fan_in, fan_out] = keras_fans(weight);
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  weight.uniform_(-limit, limit, gen);
}

namespace {

// Keras's truncated normal: sigma / 0.87962566 (the std of a unit normal cut at +-2), cut at +-2 sigma.
void keras_truncated_normal_(torch::Tensor& weight, double variance, at::Generator& gen) {
  const double stddev = std::sqrt(variance) / 0.87962566103423978;
  // Inverse-CDF sampling of a unit normal truncated to [-2, 2]: exact and loop-free.
  const double lo = std::erf(-2.0 / std::sqrt(2.0));
  const double hi = std::erf(2.0 / std::sqrt(2.0));
  weight.uniform_(lo, hi, gen);
  weight.erfinv_().mul_(std::sqrt(2.0)).clamp_(-2.0, 2.0).mul_(stddev);
}

}  // namespace

void he_normal_(torch::Tensor weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  keras_truncated_normal_(weight, 2.0 / keras_fans(weight).first, gen);
}

void glorot_normal_(torch::Tensor weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto [fan_in, fan_out] = keras_fans(weight);
  keras_truncated_normal_(weight, 2.0 / (fan_in + fan_out), gen);
}

void he_uniform_(torch::Tensor weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const double limit = std::sqrt(6.0 / keras_fans(weight).first);
  weight.uniform_(-limit, limit, gen);
}

at::Generator make_cpu_generator(uint64_t seed) {
  return at::detail::createCPUGenerator(seed);
}

}  // namespace torchfit
