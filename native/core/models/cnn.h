// The notebook's model_cnn5: two sigmoid convolutions, five BatchNorms, softmax head.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/models/classifier.h"
#include "core/models/keras_batch_norm.h"

namespace torchfit {

class Cnn : public Classifier {
 public:
  Cnn(const ModelConfig& config, at::Generator& gen);
  torch::Tensor forward(const torch::Tensor& images) override;
  std::vector<LayerInfo> layers() const override;

 private:
  // Names match the Python reference port so state_dicts exchange.
  torch::nn::Conv2d conv1{nullptr};
  KerasBatchNorm bn1{nullptr}, bn2{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  KerasBatchNorm bn3{nullptr}, bn4{nullptr}, bn5{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace torchfit
