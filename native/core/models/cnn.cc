#include "core/models/cnn.h"

#include <torch/nn/functional/pooling.h>

#include "core/init.h"
#include "core/kernels/cnn_stem.h"
#include "core/kernels/conv1ch.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/narrow_linear.h"

namespace torchfit {
Cnn::Cnn(const ModelConfig& config, at::Generator& gen) : Classifier(config) {
  const int64_t h1 = config.height - 2, w1 = config.width - 2;    // conv 3x3 valid
  const int64_t h2 = h1 / 2 - 2, w2 = w1 / 2 - 2;                 // pool, conv
  const int64_t flat = 64 * (h2 / 2) * (w2 / 2);
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(config.channels, 32, /*kernel_size=*/3)));
  bn1 = register_module("bn1", KerasBatchNorm(32));
  bn2 = register_module("bn2", KerasBatchNorm(32));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, /*kernel_size=*/3)));
  bn3 = register_module("bn3", KerasBatchNorm(64));
  bn4 = register_module("bn4", KerasBatchNorm(64));
  bn5 = register_module("bn5", KerasBatchNorm(flat));
  fc = register_module("fc", torch::nn::Linear(flat, config.num_classes));
  set_batch_norm_momentum(*this, config.bn_momentum);

  torch::NoGradGuard no_grad;
  for (auto* weight : {&conv1->weight, &conv2->weight, &fc->weight}) glorot_uniform_(*weight, gen);
  for (auto* bias : {&conv1->bias, &conv2->bias, &fc->bias}) bias->zero_();
}

namespace {

// Sigmoid -> BatchNorm -> MaxPool(2) on a conv's output, the notebook's block.
torch::Tensor sigmoid_bn_pool(const torch::Tensor& z, KerasBatchNorm& bn, bool fused) {
  return activation_bn_pool2x2(z, kernels::PoolActivation::sigmoid, *bn, fused);
}

// conv2 (32 -> 64, 3x3 valid) on the convolution engine (the fused sigmoid/BatchNorm/pool
// kernels around it read NCHW), or libtorch's conv.
torch::Tensor conv_valid(const torch::Tensor& x, torch::nn::Conv2d& conv, bool fused) {
  if (fused) {
    auto out = kernels::conv2d_nchw_via_engine(x, conv->weight, conv->bias, kernels::ConvGeometry2d{});
    if (out.defined()) return out;
  }
  return conv(x);
}

}  // namespace

torch::Tensor Cnn::forward(const torch::Tensor& images) {
  const bool fused = fused_kernels();
  torch::Tensor x;
  if (fused && kernels::cnn_stem_applies(images, conv1->weight, conv1->bias, /*pad=*/0, bn1->weight)) {
    bn1->count_batch();
    x = kernels::cnn_stem(images, conv1->weight, conv1->bias, /*pad=*/0, bn1->weight, bn1->bias, bn1->running_mean,
                          bn1->running_var, bn1->is_training(), bn1->momentum(), kKerasBnEpsilon);
  } else if (fused && kernels::conv1ch3x3_applies(images, conv1->weight, conv1->bias, /*stride=*/1, /*pad=*/0)) {
    x = sigmoid_bn_pool(kernels::conv1ch3x3(images, conv1->weight, conv1->bias, /*pad=*/0), bn1, fused);
  } else {
    x = sigmoid_bn_pool(conv1(images), bn1, fused);
  }
  x = bn2(x);
  x = bn4(sigmoid_bn_pool(conv_valid(x, conv2, fused), bn3, fused));
  x = bn5(x.flatten(1));
  if (fused && kernels::narrow_linear_applies(x, fc->weight, fc->bias)) return kernels::narrow_linear(x, fc->weight, fc->bias);
  return fc(x);
}

std::vector<LayerInfo> Cnn::layers() const {
  const auto& c = config();
  const int64_t h1 = c.height - 2, w1 = c.width - 2;
  const int64_t h2 = h1 / 2, w2 = w1 / 2;
  const int64_t h3 = h2 - 2, w3 = w2 - 2;
  const int64_t h4 = h3 / 2, w4 = w3 / 2;
  const int64_t flat = 64 * h4 * w4;
  LayerNamer names;
  std::vector<LayerInfo> out;
  auto add = [&](const std::string& base, const std::string& type, std::vector<int64_t> shape, int64_t params,
                 int64_t trainable, const std::string& config_text) {
    LayerInfo info{names.next(base), type, std::move(shape), params, trainable, {}, config_text};
    if (!out.empty()) info.inbound.push_back(out.back().name);
    out.push_back(std::move(info));
  };
  auto bn = [&](std::vector<int64_t> shape) {
    const int64_t ch = shape.back();
    add("batch_normalization", "BatchNormalization", std::move(shape), 4 * ch, 2 * ch,
        keras_batch_norm_text(c.bn_momentum, kKerasBnEpsilon));
  };
  add("input_1", "InputLayer", {c.height, c.width, c.channels}, 0, 0, "");
  add("conv2d", "Conv2D", {h1, w1, 32}, 32 * c.channels * 9 + 32, 32 * c.channels * 9 + 32, "32 filters 3x3, valid, sigmoid");
  bn({h1, w1, 32});
  add("max_pooling2d", "MaxPooling2D", {h2, w2, 32}, 0, 0, "2x2");
  bn({h2, w2, 32});
  add("conv2d", "Conv2D", {h3, w3, 64}, 64 * 32 * 9 + 64, 64 * 32 * 9 + 64, "64 filters 3x3, valid, sigmoid");
  bn({h3, w3, 64});
  add("max_pooling2d", "MaxPooling2D", {h4, w4, 64}, 0, 0, "2x2");
  bn({h4, w4, 64});
  add("flatten", "Flatten", {flat}, 0, 0, "");
  bn({flat});
  const int64_t dense = flat * c.num_classes + c.num_classes;
  add("dense", "Dense", {c.num_classes}, dense, dense, std::to_string(c.num_classes) + " units, softmax");
  return out;
}

}  // namespace torchfit
