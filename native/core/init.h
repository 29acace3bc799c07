// Keras's initialisers, drawn from an explicit generator so that a seed gives
// the same weights on every run and concurrent trainings never share RNG state.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace torchfit {

// glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); conv fans include kh*kw.
void glorot_uniform_(torch::Tensor weight, at::Generator& gen);

// he_normal: normal with sigma = sqrt(2 / fan_in) / 0.87962566, truncated at +-2 sigma
// (Keras divides by the std of a unit normal truncated at +-2 so the result has variance 2/fan_in).
void he_normal_(torch::Tensor weight, at::Generator& gen);

// glorot_normal: truncated like he_normal, variance 2 / (fan_in + fan_out).
void glorot_normal_(torch::Tensor weight, at::Generator& gen);

// he_uniform: U(-l, l), l = sqrt(6 / fan_in).
void he_uniform_(torch::Tensor weight, at::Generator& gen);

// Fans as Keras computes them for a torch weight (out, in[, kh, kw]).
std::pair<double, double> keras_fans(const torch::Tensor& weight);

at::Generator make_cpu_generator(uint64_t seed);

}  // namespace torchfit
