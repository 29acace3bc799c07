// ResNet v1 as the notebook builds it (resnet_layer with conv_first=False, i.e.
// BatchNorm -> activation -> conv), for any depth 6n+2.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/kernels/residual_block_blocked.h"
#include "core/models/classifier.h"
#include "core/models/keras_batch_norm.h"

namespace torchfit {

// Keras's l2(1e-4) on every resnet_layer convolution kernel.
constexpr double kResNetL2 = 1e-4;

// One resnet_layer: optional BatchNorm, optional ReLU, then a 'same' convolution.
class ResNetLayerImpl : public torch::nn::Module {
 public:
  ResNetLayerImpl(int64_t in_channels, int64_t filters, int64_t kernel, int64_t stride, bool batch_norm, bool relu,
                  at::Generator& gen);
  // fused_kernels: a 1-channel 3x3 stride-1 conv (the stem) runs core/kernels' direct convolution.
  torch::Tensor forward(const torch::Tensor& x, bool fused_kernels = false);
  // The convolution engine (core/kernels/engine.h): x blocked, or NCHW images for the stem;
  // the output blocked, with `residual` added and a ReLU applied in the convolution's pass.
  // Inference may fold `next`'s BatchNorm into this convolution (fold_next), and then runs
  // `next` without it (bn_folded).
  torch::Tensor forward_engine(const torch::Tensor& x, const torch::Tensor& residual = {}, bool relu_after = false,
                               const ResNetLayerImpl* fold_next = nullptr, bool bn_folded = false);
  bool has_batch_norm() const { return !bn.is_empty(); }
  // This layer's BatchNorm and convolution as one layer of a residual block on the engine
  // (kernels/residual_block_blocked.h), for an input of h x w pixels: the BatchNorm's tensors
  // (when it has one) and the convolution's, with TensorFlow's 'same' padding.
  void engine_parts(int64_t h, int64_t w, torch::Tensor* gamma, torch::Tensor* beta, torch::Tensor* running_mean,
                    torch::Tensor* running_var, torch::Tensor* weight, torch::Tensor* bias,
                    kernels::ConvGeometry2d* g) const;
  // Counts a training batch in the BatchNorm's num_batches_tracked (what its forward does).
  void count_batch() {
    if (bn) bn->count_batch();
  }
  double bn_momentum() const { return bn ? bn->momentum() : 0.0; }
  double bn_epsilon() const { return bn ? bn->epsilon() : 0.0; }
  const torch::Tensor& kernel() const { return conv->weight; }

 private:
  KerasBatchNorm bn{nullptr};
  torch::nn::Conv2d conv{nullptr};
  int64_t kernel_, stride_;
  bool relu_;
};
TORCH_MODULE(ResNetLayer);

class ResNetBlockImpl : public torch::nn::Module {
 public:
  ResNetBlockImpl(int64_t in_channels, int64_t filters, int64_t stride, at::Generator& gen);
  torch::Tensor forward(const torch::Tensor& x);
  // Inference, or training without the block op: layer by layer on the engine.
  torch::Tensor forward_engine(const torch::Tensor& x);
  // Training on the engine as one op (kernels/residual_block_blocked.h): its parameters for
  // an input of h x w pixels, the mask flags left for the model to set.
  kernels::ResidualBlockParams engine_block(int64_t h, int64_t w) const;
  // Counts the batch in both BatchNorms (the block op does not run their modules).
  void count_batch();
  void collect_kernels(std::vector<torch::Tensor>& out) const;

 private:
  ResNetLayer layer1{nullptr}, layer2{nullptr}, shortcut{nullptr};
};
TORCH_MODULE(ResNetBlock);

class ResNet : public Classifier {
 public:
  ResNet(const ModelConfig& config, at::Generator& gen);
  torch::Tensor forward(const torch::Tensor& images) override;
  torch::Tensor regularization_loss() override;
  void add_regularization_gradients() override;
  std::vector<LayerInfo> layers() const override;

 private:
  // With fused kernels the L2 penalty has no autograd graph: its value in one call and its
  // gradient added into the kernels' .grad after backward (kernels/squared_sum.h says why).
  bool direct_l2_gradients() const;
  // Whether this batch runs on the convolution engine: fused kernels on, residual blocks to
  // run (depth 2 has none: its fused stem and head are faster alone), CPU float32 images.
  bool use_engine(const torch::Tensor& images) const;
  // Flatten and the dense layer.
  torch::Tensor head(const torch::Tensor& features);

  ResNetLayer stem{nullptr};
  torch::nn::ModuleList stacks{nullptr};
  torch::nn::Linear fc{nullptr};
  std::vector<torch::Tensor> regularized_;
  int64_t blocks_ = 0, out_channels_ = 16;
};

// TensorFlow's 'same' padding: total = max((ceil(in/s) - 1) * s + k - in, 0), extra on the bottom/right.
std::pair<int64_t, int64_t> tf_same_padding(int64_t in, int64_t kernel, int64_t stride);

}  // namespace torchfit
