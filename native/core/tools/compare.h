// Fused kernels against libtorch's own ops on the same random inputs, for the tests
// (native _compareKernels): every output, gradient and running statistic, as differences.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "core/config.h"

namespace torchfit::kernels {

struct CompareSpec {
  // "conv1ch", "sigmoid_bn_pool" (and "relu_bn_pool": activation_bn_pool), "cnn_stem" (the two in one), "linear" (narrow_linear: batch
  // x width inputs, `channels` outputs), or "model" (the whole model of `model`, train_step
  // by train_step).
  // The convolution engine: "conv_blocked" (x of `channels` -> `out_channels`, a kernel x
  // kernel convolution, stride, Keras 'same' or 'valid', optionally a residual added and a
  // ReLU) and "bn_blocked" (BatchNorm of `channels`, optionally + ReLU), each entered and left
  // through to_blocked/from_blocked.
  std::string op;
  int64_t batch = 4, channels = 8, height = 28, width = 28, pad = 0;
  int64_t out_channels = 8, kernel = 3, stride = 1;
  bool same = true, residual = false, relu = false;
  // "block_blocked": one ResNet v1 residual block (residual_block_blocked.h) of `channels` ->
  // `out_channels` at `stride` (a 1x1 projection shortcut where either changes), against
  // libtorch's layers; input_relu: x is a ReLU's output (the engine masks its gradient, the
  // reference's is masked alike); grad_out_masked: the engine gets the upstream gradient
  // already masked by its output's ReLU.
  bool input_relu = false, grad_out_masked = false;
  bool training = true;     // sigmoid/relu_bn_pool, cnn_stem: batch statistics or running ones
  bool input_grad = false;  // conv1ch: whether x requires grad
  bool negative_gamma = false;  // sigmoid/relu_bn_pool, cnn_stem: some BatchNorm scales below zero
  int steps = 1;            // model: optimisation steps
  ModelConfig model;
  OptimizerConfig optimizer;
  uint64_t seed = 0;
  int threads = 0;          // 0: leave as is
  std::string isa;          // "" automatic, "avx2" or "generic"
};

// Each path is also measured against libtorch's ops in float64, so a test can ask that the
// fused kernels be as accurate as libtorch's own float32 ops (which round differently, and
// where a result is a near-cancelling sum, such as a bias gradient, differ relatively a lot).
struct Difference {
  std::string name;
  double max_abs = 0;    // max |fused - plain|
  double fused_err = 0;  // max |fused - float64|
  double plain_err = 0;  // max |plain - float64|
  double ref_max = 0;    // max |float64|, the scale of the values
  int64_t numel = 0;
};

std::vector<Difference> compare_kernels(const CompareSpec& spec);

// The engine's ops (compare_engine.cc), called by compare_kernels.
std::vector<Difference> compare_conv_blocked(const CompareSpec& spec, at::Generator& gen);
std::vector<Difference> compare_bn_blocked(const CompareSpec& spec, at::Generator& gen);
std::vector<Difference> compare_block_blocked(const CompareSpec& spec, at::Generator& gen);
std::vector<Difference> differences(const std::vector<std::string>& names, const std::vector<torch::Tensor> (&r)[3]);

}  // namespace torchfit::kernels
