// What the trainer needs from any model: logits, the regularisation term Keras
// adds to the loss, and a Keras-style layer table.
#pragma once

#include <memory>
#include <torch/nn/module.h>
#include <vector>

#include "core/config.h"
#include "core/summary.h"

namespace torchfit {

class Classifier : public torch::nn::Module {
 public:
  explicit Classifier(ModelConfig config) : config_(config) {}
  // Logits (N, num_classes): softmax is folded into the loss, as Keras does on softmax outputs.
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;
  // Sum of the kernel regularisers (l2 * sum(w^2)); an undefined tensor when there are none.
  // Its gradient comes through autograd, or, where the model has no graph for it (a fused
  // path), from add_regularization_gradients, which training calls after every backward.
  virtual torch::Tensor regularization_loss() { return {}; }
  virtual void add_regularization_gradients() {}
  virtual std::vector<LayerInfo> layers() const = 0;
  const ModelConfig& config() const { return config_; }
  // The hand-written CPU kernels (core/kernels) where the model has them, or plain libtorch ops.
  // Either way the same maths; the switch exists to compare them and to rule them out.
  void set_fused_kernels(bool on) { fused_kernels_ = on; }
  bool fused_kernels() const { return fused_kernels_; }

 private:
  ModelConfig config_;
  bool fused_kernels_ = true;
};

// Builds an initialised model on the CPU; the seed fixes the initial weights.
std::shared_ptr<Classifier> make_classifier(const ModelConfig& config, uint64_t seed);

// Keras's BatchNormalization(momentum=0.99, epsilon=1e-3) in PyTorch's terms.
constexpr double kKerasBnMomentum = 0.01;
constexpr double kKerasBnEpsilon = 1e-3;

}  // namespace torchfit
