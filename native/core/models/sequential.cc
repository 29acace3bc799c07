#include "core/models/sequential.h"

#include <array>
#include <limits>

#include "core/init.h"
#include "core/kernels/cnn_stem.h"
#include "core/kernels/conv1ch.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/narrow_linear.h"
#include "core/models/resnet.h"

namespace torchfit {

KernelImpl::KernelImpl(const std::vector<int64_t>& shape, bool use_bias) {
  weight = register_parameter("weight", torch::empty(shape));
  if (use_bias) bias = register_parameter("bias", torch::zeros({shape[0]}));
}

ResidualImpl::ResidualImpl(torch::nn::ModuleList body_, torch::nn::ModuleList shortcut_) {
  body = register_module("body", std::move(body_));
  shortcut = register_module("shortcut", std::move(shortcut_));
}

namespace {

void initialize(torch::Tensor& weight, Initializer init, at::Generator& gen) {
  switch (init) {
    case Initializer::GlorotUniform: return glorot_uniform_(weight, gen);
    case Initializer::GlorotNormal: return glorot_normal_(weight, gen);
    case Initializer::HeNormal: return he_normal_(weight, gen);
    case Initializer::HeUniform: return he_uniform_(weight, gen);
  }
}

torch::nn::ModuleList build(const std::vector<LayerConfig>& configs, at::Generator& gen,
                            std::vector<std::pair<torch::Tensor, double>>& regularized) {
  torch::nn::ModuleList list;
  for (const auto& c : configs) {
    switch (c.type) {
      case LayerType::Conv2d:
      case LayerType::Dense: {
        const auto shape = c.type == LayerType::Conv2d
                               ? std::vector<int64_t>{c.units, c.input_shape[0], c.kernel_h, c.kernel_w}
                               : std::vector<int64_t>{c.units, c.input_shape[0]};
        Kernel kernel(shape, c.use_bias);
        initialize(kernel->weight, c.initializer, gen);
        if (c.l2 > 0) regularized.emplace_back(kernel->weight, c.l2);
        list->push_back(kernel);
        break;
      }
      case LayerType::BatchNorm:
        list->push_back(KerasBatchNorm(c.input_shape[0], c.momentum, c.epsilon));
        break;
      case LayerType::Residual: {
        auto body = build(c.body, gen, regularized);
        auto shortcut = build(c.shortcut, gen, regularized);
        list->push_back(Residual(body, shortcut));
        break;
      }
      default:
        list->push_back(NoParams());
    }
  }
  return list;
}

// TensorFlow's padding of a window layer: (top, bottom, left, right); zeros for 'valid'.
std::array<int64_t, 4> padding_of(const LayerConfig& c, const torch::Tensor& x) {
  if (c.padding == Padding::Valid) return {0, 0, 0, 0};
  const auto [top, bottom] = tf_same_padding(x.size(2), c.kernel_h, c.stride_h);
  const auto [left, right] = tf_same_padding(x.size(3), c.kernel_w, c.stride_w);
  return {top, bottom, left, right};
}

// One pad on every side, or -1.
int64_t uniform_pad(const std::array<int64_t, 4>& p) {
  return p[0] == p[1] && p[2] == p[3] && p[0] == p[2] ? p[0] : -1;
}

torch::Tensor activate(const torch::Tensor& x, Activation a) {
  switch (a) {
    case Activation::Relu: return torch::relu(x);
    case Activation::Sigmoid: return torch::sigmoid(x);
    case Activation::Tanh: return torch::tanh(x);
    case Activation::Softmax: return torch::softmax(x, 1);
    case Activation::Elu: return torch::elu(x);
    case Activation::Gelu: return torch::gelu(x);
    case Activation::LeakyRelu: return torch::leaky_relu(x, kLeakyReluSlope);
    case Activation::Linear: return x;
  }
  return x;
}

torch::Tensor convolve(const LayerConfig& c, const KernelImpl& k, const torch::Tensor& x, bool fused) {
  const auto p = padding_of(c, x);
  const int64_t pad = uniform_pad(p);
  if (fused && pad >= 0 && c.stride_h == c.stride_w &&
      kernels::conv1ch3x3_applies(x, k.weight, k.bias, c.stride_h, pad)) {
    return kernels::conv1ch3x3(x, k.weight, k.bias, pad);
  }
  // The convolution engine (oneDNN's kernels, Winograd where it pays), the same call as the
  // 'cnn' preset's conv2, so a layers model equal to a preset trains bit for bit like it.
  if (fused && c.stride_h == c.stride_w) {
    auto out = kernels::conv2d_nchw_via_engine(x, k.weight, k.bias, {c.stride_h, p[0], p[1], p[2], p[3], false});
    if (out.defined()) return out;
  }
  if (p[0] == p[1] && p[2] == p[3]) return torch::conv2d(x, k.weight, k.bias, {c.stride_h, c.stride_w}, {p[0], p[2]});
  // Asymmetric (TensorFlow puts the odd extra row/column at the bottom/right): pad explicitly.
  return torch::conv2d(torch::constant_pad_nd(x, {p[2], p[3], p[0], p[1]}, 0), k.weight, k.bias, {c.stride_h, c.stride_w});
}

torch::Tensor pool(const LayerConfig& c, const torch::Tensor& x) {
  const auto p = padding_of(c, x);
  const bool padded = p[0] + p[1] + p[2] + p[3] > 0;
  if (c.type == LayerType::MaxPool) {
    const auto in = padded ? torch::constant_pad_nd(x, {p[2], p[3], p[0], p[1]}, -std::numeric_limits<double>::infinity()) : x;
    return torch::max_pool2d(in, {c.kernel_h, c.kernel_w}, {c.stride_h, c.stride_w});
  }
  if (!padded) return torch::avg_pool2d(x, {c.kernel_h, c.kernel_w}, {c.stride_h, c.stride_w});
  // 'same': TensorFlow averages over the window's pixels inside the image only.
  const auto pad = [&](const torch::Tensor& t) { return torch::constant_pad_nd(t, {p[2], p[3], p[0], p[1]}, 0); };
  const auto sums = torch::avg_pool2d(pad(x), {c.kernel_h, c.kernel_w}, {c.stride_h, c.stride_w});
  const auto counts = torch::avg_pool2d(pad(torch::ones({1, 1, x.size(2), x.size(3)}, x.options())), {c.kernel_h, c.kernel_w},
                                        {c.stride_h, c.stride_w});
  return sums / counts;
}

bool is_pool2x2(const LayerConfig& c) {
  return c.type == LayerType::MaxPool && c.kernel_h == 2 && c.kernel_w == 2 && c.stride_h == 2 && c.stride_w == 2 &&
         c.padding == Padding::Valid;
}

struct Pass {
  bool fused;
  bool training;
  at::Generator& dropout_gen;
};

torch::Tensor run(const std::vector<LayerConfig>& configs, const torch::nn::ModuleList& modules, torch::Tensor x,
                  const Pass& pass, bool fold_softmax) {
  for (size_t i = 0; i < configs.size(); ++i) {
    const auto& c = configs[i];
    auto& module = *modules->ptr(i);
    // The model's output is logits: its final softmax is folded into the loss (and predict()).
    const auto final_activation = [&](Activation a) {
      return fold_softmax && i + 1 == configs.size() && a == Activation::Softmax ? Activation::Linear : a;
    };
    switch (c.type) {
      case LayerType::Conv2d: {
        const auto& k = *module.as<KernelImpl>();
        // conv -> sigmoid or ReLU -> BatchNorm -> MaxPool(2): the CNN's block (and its ReLU
        // twin), one fused kernel after the conv where the shapes allow, and with the sigmoid
        // on one input channel the conv fused in too.
        const bool sigmoid = c.activation == Activation::Sigmoid, relu = c.activation == Activation::Relu;
        if ((sigmoid || relu) && i + 2 < configs.size() && configs[i + 1].type == LayerType::BatchNorm &&
            is_pool2x2(configs[i + 2])) {
          auto& bn = *modules->ptr(i + 1)->as<KerasBatchNormImpl>();
          const int64_t pad = uniform_pad(padding_of(c, x));
          const auto act = sigmoid ? kernels::PoolActivation::sigmoid : kernels::PoolActivation::relu;
          if (sigmoid && pass.fused && pad >= 0 && c.stride_h == 1 && c.stride_w == 1 &&
              kernels::cnn_stem_applies(x, k.weight, k.bias, pad, bn.weight)) {
            bn.count_batch();
            x = kernels::cnn_stem(x, k.weight, k.bias, pad, bn.weight, bn.bias, bn.running_mean, bn.running_var,
                                  bn.is_training(), bn.momentum(), bn.epsilon());
          } else {
            x = activation_bn_pool2x2(convolve(c, k, x, pass.fused), act, bn, pass.fused);
          }
          i += 2;
          break;
        }
        x = activate(convolve(c, k, x, pass.fused), final_activation(c.activation));
        break;
      }
      case LayerType::Dense: {
        const auto& k = *module.as<KernelImpl>();
        x = pass.fused && kernels::narrow_linear_applies(x, k.weight, k.bias) ? kernels::narrow_linear(x, k.weight, k.bias)
                                                                              : torch::linear(x, k.weight, k.bias);
        x = activate(x, final_activation(c.activation));
        break;
      }
      case LayerType::BatchNorm:
        x = module.as<KerasBatchNormImpl>()->forward(x);
        break;
      case LayerType::Activation:
        x = activate(x, final_activation(c.activation));
        break;
      case LayerType::MaxPool:
      case LayerType::AvgPool:
        x = pool(c, x);
        break;
      case LayerType::GlobalAvgPool:
        x = x.mean({2, 3});
        break;
      case LayerType::Flatten:
        x = x.flatten(1);  // (C, H, W) order, as torch.flatten
        break;
      case LayerType::Dropout:
        if (pass.training && c.rate > 0) {
          if (x.device().is_cpu()) {
            // Seeded masks: the same seed trains the same way.
            const auto keep = torch::empty_like(x).bernoulli_(1.0 - c.rate, pass.dropout_gen);
            x = x * keep / (1.0 - c.rate);
          } else {
            x = torch::dropout(x, c.rate, /*train=*/true);  // CUDA: the device's own generator
          }
        }
        break;
      case LayerType::Residual: {
        const auto& block = *module.as<ResidualImpl>();
        const auto y = run(c.body, block.body, x, pass, false);
        const auto skip = c.shortcut.empty() ? x : run(c.shortcut, block.shortcut, x, pass, false);
        x = activate(skip + y, final_activation(c.activation));
        break;
      }
    }
  }
  return x;
}

// Keras's class name and default layer name of each layer type.
std::pair<const char*, const char*> keras_names(LayerType t) {
  switch (t) {
    case LayerType::Conv2d: return {"Conv2D", "conv2d"};
    case LayerType::Dense: return {"Dense", "dense"};
    case LayerType::BatchNorm: return {"BatchNormalization", "batch_normalization"};
    case LayerType::Activation: return {"Activation", "activation"};
    case LayerType::MaxPool: return {"MaxPooling2D", "max_pooling2d"};
    case LayerType::AvgPool: return {"AveragePooling2D", "average_pooling2d"};
    case LayerType::GlobalAvgPool: return {"GlobalAveragePooling2D", "global_average_pooling2d"};
    case LayerType::Flatten: return {"Flatten", "flatten"};
    case LayerType::Dropout: return {"Dropout", "dropout"};
    case LayerType::Residual: return {"Add", "add"};
  }
  return {"Layer", "layer"};
}

std::vector<int64_t> channels_last(const std::vector<int64_t>& s) {
  return s.size() == 3 ? std::vector<int64_t>{s[1], s[2], s[0]} : s;
}

// Rows of the summary, InputLayer first; parameter counts read from the modules themselves.
std::string describe(const std::vector<LayerConfig>& configs, const torch::nn::ModuleList& modules, std::string from,
                     LayerNamer& names, std::vector<LayerInfo>& out) {
  for (size_t i = 0; i < configs.size(); ++i) {
    const auto& c = configs[i];
    const auto& module = *modules->ptr(i);
    const auto [type, base] = keras_names(c.type);
    if (c.type == LayerType::Residual) {
      const auto& block = *module.as<ResidualImpl>();
      const auto body = describe(c.body, block.body, from, names, out);
      const auto skip = c.shortcut.empty() ? from : describe(c.shortcut, block.shortcut, from, names, out);
      out.push_back(LayerInfo{names.next(base), type, channels_last(c.output_shape), 0, 0, {skip, body}, ""});
      from = out.back().name;
      if (c.activation != Activation::Linear) {
        out.push_back(LayerInfo{names.next("activation"), "Activation", channels_last(c.output_shape), 0, 0, {from}, ""});
        from = out.back().name;
      }
      continue;
    }
    int64_t trainable = 0, all = 0;
    for (const auto& p : module.parameters()) trainable += p.numel();
    all = trainable;
    for (const auto& b : module.named_buffers()) {
      if (b.key() != "num_batches_tracked") all += b.value().numel();
    }
    out.push_back(LayerInfo{names.next(base), type, channels_last(c.output_shape), all, trainable, {from}, ""});
    from = out.back().name;
  }
  return from;
}

}  // namespace

Sequential::Sequential(const ModelConfig& config, at::Generator& gen, uint64_t seed)
    : Classifier(config), dropout_gen_(make_cpu_generator(seed ^ 0xD1B54A32D192ED03ULL)) {
  torch::NoGradGuard no_grad;
  layers_ = register_module("layers", build(config.layers, gen, regularized_));
}

torch::Tensor Sequential::forward(const torch::Tensor& images) {
  return run(config().layers, layers_, images, Pass{fused_kernels(), is_training(), dropout_gen_}, true);
}

torch::Tensor Sequential::regularization_loss() {
  torch::Tensor sum;
  for (const auto& [kernel, l2] : regularized_) {
    auto term = kernel.square().sum() * l2;
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

std::vector<LayerInfo> Sequential::layers() const {
  const auto& c = config();
  LayerNamer names;
  std::vector<LayerInfo> out;
  out.push_back(LayerInfo{names.next("input_1"), "InputLayer", {c.height, c.width, c.channels}, 0, 0, {}, ""});
  describe(c.layers, layers_, out.back().name, names, out);
  return out;
}

}  // namespace torchfit
