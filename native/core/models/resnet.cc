#include "core/models/resnet.h"

#include <torch/nn/functional/padding.h>

#include "core/errors.h"
#include "core/init.h"
#include "core/kernels/batch_norm_blocked.h"
#include "core/kernels/conv1ch.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/engine.h"
#include "core/kernels/narrow_linear.h"
#include "core/kernels/squared_sum.h"

namespace torchfit {

std::pair<int64_t, int64_t> tf_same_padding(int64_t in, int64_t kernel, int64_t stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

ResNetLayerImpl::ResNetLayerImpl(int64_t in_channels, int64_t filters, int64_t kernel, int64_t stride,
                                 bool batch_norm, bool relu, at::Generator& gen)
    : kernel_(kernel), stride_(stride), relu_(relu) {
  if (batch_norm) {
    bn = register_module("bn", KerasBatchNorm(in_channels));
  }
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, filters, kernel).stride(stride)));
  torch::NoGradGuard no_grad;
  he_normal_(conv->weight, gen);
  conv->bias.zero_();
}

torch::Tensor ResNetLayerImpl::forward(const torch::Tensor& input, bool fused_kernels) {
  auto x = bn ? bn(input) : input;
  if (relu_) x = torch::relu(x);
  const auto [top, bottom] = tf_same_padding(x.size(2), kernel_, stride_);
  const auto [left, right] = tf_same_padding(x.size(3), kernel_, stride_);
  if (fused_kernels && top == bottom && left == right && top == left &&
      kernels::conv1ch3x3_applies(x, conv->weight, conv->bias, stride_, top)) {
    return kernels::conv1ch3x3(x, conv->weight, conv->bias, top);
  }
  if (top == bottom && left == right) {
    return torch::conv2d(x, conv->weight, conv->bias, stride_, /*padding=*/torch::IntArrayRef{top, left});
  }
  // Asymmetric (stride 2 on even sizes): pad explicitly as TensorFlow does.
  x = torch::constant_pad_nd(x, {left, right, top, bottom}, 0);
  return torch::conv2d(x, conv->weight, conv->bias, stride_);
}

torch::Tensor ResNetLayerImpl::forward_engine(const torch::Tensor& input, const torch::Tensor& residual,
                                             bool relu_after, const ResNetLayerImpl* fold_next, bool bn_folded) {
  if (!kernels::is_blocked(input)) {
    // The stem, on the images: one channel is too few for blocked BatchNorm to pay, and
    // oneDNN's input gradient for it is its slow reference code; the fused 1-channel kernel
    // does it, and one reorder enters the blocked layout.
    return kernels::to_blocked(forward(input, /*fused_kernels=*/true));
  }
  torch::Tensor x = input;
  if (bn && !bn_folded) {
    bn->count_batch();
    x = kernels::batch_norm_blocked(x, bn->weight, bn->bias, bn->running_mean, bn->running_var, bn->is_training(),
                                    bn->momentum(), kKerasBnEpsilon, relu_);
  } else if (relu_) {
    x = torch::relu(x);
  }
  kernels::ConvGeometry2d g;
  g.stride = stride_;
  std::tie(g.pad_top, g.pad_bottom) = tf_same_padding(x.size(2), kernel_, stride_);
  std::tie(g.pad_left, g.pad_right) = tf_same_padding(x.size(3), kernel_, stride_);
  g.relu = relu_after;
  if (fold_next != nullptr) {
    const auto& n = fold_next->bn;
    const auto [w, b] = kernels::fold_batch_norm(conv->weight, conv->bias, n->weight, n->bias, n->running_mean,
                                                 n->running_var, kKerasBnEpsilon);
    return kernels::conv2d_blocked(x, w, b, g, residual);
  }
  return kernels::conv2d_blocked(x, conv->weight, conv->bias, g, residual);
}

void ResNetLayerImpl::engine_parts(int64_t h, int64_t w, torch::Tensor* gamma, torch::Tensor* beta,
                                   torch::Tensor* running_mean, torch::Tensor* running_var, torch::Tensor* weight,
                                   torch::Tensor* bias, kernels::ConvGeometry2d* g) const {
  if (bn) {
    *gamma = bn->weight;
    *beta = bn->bias;
    *running_mean = bn->running_mean;
    *running_var = bn->running_var;
  }
  *weight = conv->weight;
  *bias = conv->bias;
  g->stride = stride_;
  std::tie(g->pad_top, g->pad_bottom) = tf_same_padding(h, kernel_, stride_);
  std::tie(g->pad_left, g->pad_right) = tf_same_padding(w, kernel_, stride_);
}

ResNetBlockImpl::ResNetBlockImpl(int64_t in_channels, int64_t filters, int64_t stride, at::Generator& gen) {
  layer1 = register_module("layer1", ResNetLayer(in_channels, filters, 3, stride, true, true, gen));
  layer2 = register_module("layer2", ResNetLayer(filters, filters, 3, 1, true, false, gen));
  if (stride != 1 || in_channels != filters) {
    shortcut = register_module("shortcut", ResNetLayer(in_channels, filters, 1, stride, false, false, gen));
  }
}

torch::Tensor ResNetBlockImpl::forward(const torch::Tensor& x) {
  auto y = layer2(layer1(x));
  auto skip = shortcut ? shortcut(x) : x;
  return torch::relu(skip + y);
}

torch::Tensor ResNetBlockImpl::forward_engine(const torch::Tensor& x) {
  // Inference: layer2's BatchNorm (no ReLU between) folds into layer1's convolution, one pass
  // over the activations fewer. layer1's own BatchNorm cannot fold backwards: a ReLU follows it.
  const bool fold = !is_training() && !torch::GradMode::is_enabled() && layer2->has_batch_norm();
  auto y = layer1->forward_engine(x, {}, false, fold ? layer2.get() : nullptr);
  auto skip = shortcut ? shortcut->forward_engine(x) : x;
  return layer2->forward_engine(y, skip, /*relu_after=*/true, nullptr, /*bn_folded=*/fold);
}

kernels::ResidualBlockParams ResNetBlockImpl::engine_block(int64_t h, int64_t w) const {
  kernels::ResidualBlockParams p;
  layer1->engine_parts(h, w, &p.gamma1, &p.beta1, &p.running_mean1, &p.running_var1, &p.weight1, &p.bias1, &p.g1);
  // layer2 runs on layer1's output: 'same' padding at stride s gives ceil(h / s).
  const int64_t s = p.g1.stride;
  layer2->engine_parts((h + s - 1) / s, (w + s - 1) / s, &p.gamma2, &p.beta2, &p.running_mean2, &p.running_var2,
                       &p.weight2, &p.bias2, &p.g2);
  if (shortcut) {
    torch::Tensor unused;
    shortcut->engine_parts(h, w, &unused, &unused, &unused, &unused, &p.weight_s, &p.bias_s, &p.gs);
  }
  p.momentum = layer1->bn_momentum();
  p.eps = layer1->bn_epsilon();
  return p;
}

void ResNetBlockImpl::count_batch() {
  layer1->count_batch();
  layer2->count_batch();
}

void ResNetBlockImpl::collect_kernels(std::vector<torch::Tensor>& out) const {
  out.push_back(layer1->kernel());
  out.push_back(layer2->kernel());
  if (shortcut) out.push_back(shortcut->kernel());
}

ResNet::ResNet(const ModelConfig& config, at::Generator& gen) : Classifier(config) {
  // TypeScript checks depths (trainModel's option, a checkpoint's model.depth).
  check_internal(config.depth >= 2 && (config.depth - 2) % 6 == 0, "ResNet depth " + std::to_string(config.depth) + " is not 6n+2");
  const int blocks = (config.depth - 2) / 6;
  blocks_ = blocks;
  // Layers are created in the Keras model's order so a seed draws the same sequence.
  stem = register_module("stem", ResNetLayer(config.channels, 16, 3, 1, true, true, gen));
  regularized_.push_back(stem->kernel());
  stacks = register_module("stacks", torch::nn::ModuleList());
  int64_t channels = 16, filters = 16, h = config.height, w = config.width;
  for (int stack = 0; stack < 3; ++stack) {
    for (int b = 0; b < blocks; ++b) {
      const int64_t stride = (stack > 0 && b == 0) ? 2 : 1;
      ResNetBlock block(channels, filters, stride, gen);
      block->collect_kernels(regularized_);
      stacks->push_back(block);
      channels = filters;
      if (stride == 2) {
        h = (h + 1) / 2;
        w = (w + 1) / 2;
      }
    }
    filters *= 2;
  }
  out_channels_ = channels;
  fc = register_module("fc", torch::nn::Linear(channels * h * w, config.num_classes));
  set_batch_norm_momentum(*this, config.bn_momentum);
  torch::NoGradGuard no_grad;
  he_normal_(fc->weight, gen);
  fc->bias.zero_();
}

bool ResNet::use_engine(const torch::Tensor& images) const {
  return fused_kernels() && blocks_ > 0 && kernels::engine_available() && images.device().is_cpu() &&
         images.scalar_type() == torch::kFloat32 && images.dim() == 4 && (!is_training() || images.size(0) > 1);
}

torch::Tensor ResNet::forward(const torch::Tensor& images) {
  torch::Tensor x;
  if (use_engine(images)) {
    x = stem->forward_engine(images);
    if (is_training() && torch::GradMode::is_enabled()) {
      // Training: each block one op. Consecutive blocks share the mask of the ReLU between
      // them: a block masks its input gradient by its input (the previous block's output),
      // so the previous block skips its own ReLU backward. The first block's input is the
      // stem's convolution, no ReLU's.
      std::vector<kernels::ResidualBlockParams> chain;
      int64_t h = x.size(2), w = x.size(3);
      for (const auto& block : *stacks) {
        chain.push_back(block->as<ResNetBlockImpl>()->engine_block(h, w));
        const int64_t s = chain.back().g1.stride;
        h = (h + s - 1) / s;
        w = (w + s - 1) / s;
      }
      for (size_t i = 0; i < chain.size(); ++i) {
        chain[i].input_is_relu = i > 0;
        chain[i].grad_out_masked = i + 1 < chain.size();
      }
      if (kernels::residual_blocks_blocked_apply(x, chain)) {
        for (size_t i = 0; i < chain.size(); ++i) {
          (*stacks)[i]->as<ResNetBlockImpl>()->count_batch();
          x = kernels::residual_block_blocked(x, chain[i]);
        }
        return head(kernels::from_blocked(x, out_channels_));
      }
    }
    for (const auto& block : *stacks) x = block->as<ResNetBlockImpl>()->forward_engine(x);
    x = kernels::from_blocked(x, out_channels_);
  } else {
    x = stem(images, fused_kernels());
    for (const auto& block : *stacks) x = block->as<ResNetBlockImpl>()->forward(x);
  }
  return head(x);
}

torch::Tensor ResNet::head(const torch::Tensor& features) {
  const auto x = features.flatten(1);
  if (fused_kernels() && kernels::narrow_linear_applies(x, fc->weight, fc->bias)) {
    return kernels::narrow_linear(x, fc->weight, fc->bias);
  }
  return fc(x);
}

bool ResNet::direct_l2_gradients() const {
  return fused_kernels() && kernels::squared_sum_applies(regularized_);
}

torch::Tensor ResNet::regularization_loss() {
  if (direct_l2_gradients()) return kernels::squared_sum(regularized_) * kResNetL2;
  torch::Tensor sum;
  for (const auto& kernel : regularized_) {
    auto term = kernel.square().sum();
    sum = sum.defined() ? sum + term : term;
  }
  return sum * kResNetL2;
}

void ResNet::add_regularization_gradients() {
  if (direct_l2_gradients()) kernels::add_scaled_to_grads(regularized_, 2 * kResNetL2);  // d(l2 w^2)/dw
}

std::vector<LayerInfo> ResNet::layers() const {
  const auto& c = config();
  LayerNamer names;
  std::vector<LayerInfo> out;
  auto add = [&](const std::string& base, const std::string& type, std::vector<int64_t> shape, int64_t params,
                 int64_t trainable, std::vector<std::string> inbound, const std::string& text) {
    out.push_back(LayerInfo{names.next(base), type, std::move(shape), params, trainable, std::move(inbound), text});
    return out.back().name;
  };
  // One resnet_layer: returns the name of its last layer and the new shape.
  auto layer = [&](const std::string& from, std::vector<int64_t> shape, int64_t filters, int64_t kernel,
                   int64_t stride, bool batch_norm, bool relu) {
    std::string last = from;
    const int64_t in_ch = shape[2];
    if (batch_norm) {
      last = add("batch_normalization", "BatchNormalization", shape, 4 * in_ch, 2 * in_ch, {last},
                 keras_batch_norm_text(c.bn_momentum, kKerasBnEpsilon));
    }
    if (relu) last = add("activation", "Activation", shape, 0, 0, {last}, "relu");
    std::vector<int64_t> out_shape{(shape[0] + stride - 1) / stride, (shape[1] + stride - 1) / stride, filters};
    const int64_t params = filters * in_ch * kernel * kernel + filters;
    last = add("conv2d", "Conv2D", out_shape, params, params, {last},
               std::to_string(filters) + " filters " + std::to_string(kernel) + "x" + std::to_string(kernel) +
                   ", same, stride " + std::to_string(stride) + ", he_normal, l2(1e-4)");
    return std::make_pair(last, out_shape);
  };
  std::vector<int64_t> shape{c.height, c.width, c.channels};
  std::string x = add("input_1", "InputLayer", shape, 0, 0, {}, "");
  std::tie(x, shape) = layer(x, shape, 16, 3, 1, true, true);
  const int blocks = (c.depth - 2) / 6;
  int64_t filters = 16;
  for (int stack = 0; stack < 3; ++stack) {
    for (int b = 0; b < blocks; ++b) {
      const int64_t stride = (stack > 0 && b == 0) ? 2 : 1;
      auto [y, y_shape] = layer(x, shape, filters, 3, stride, true, true);
      std::tie(y, y_shape) = layer(y, y_shape, filters, 3, 1, true, false);
      std::string skip = x;
      if (stride != 1 || shape[2] != filters) skip = layer(x, shape, filters, 1, stride, false, false).first;
      const std::string sum = add("add", "Add", y_shape, 0, 0, {skip, y}, "");
      x = add("activation", "Activation", y_shape, 0, 0, {sum}, "relu");
      shape = y_shape;
    }
    filters *= 2;
  }
  const int64_t flat = shape[0] * shape[1] * shape[2];
  x = add("flatten", "Flatten", {flat}, 0, 0, {x}, "");
  const int64_t dense = flat * c.num_classes + c.num_classes;
  add("dense", "Dense", {c.num_classes}, dense, dense, {x}, std::to_string(c.num_classes) + " units, softmax, he_normal");
  return out;
}

}  // namespace torchfit
