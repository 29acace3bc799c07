// SGD and Adam with Keras's update rules (Keras's Adam adds epsilon to sqrt(v)
// after bias correction moved into the step size, which PyTorch's Adam does not).
#pragma once

#include <memory>
#include <torch/types.h>
#include <vector>

#include "core/config.h"

namespace torchfit {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  void set_learning_rate(double lr) { lr_ = lr; }
  double learning_rate() const { return lr_; }
  int64_t iterations() const { return iterations_; }
  // Slot variables (moments, velocities) for checkpoints, in parameter order.
  virtual std::vector<torch::Tensor> state() const = 0;
  virtual void load_state(const std::vector<torch::Tensor>& slots, int64_t iterations) = 0;
  // With the model's fused kernels (kernels: 'fused'): an optimizer may update CPU float32
  // parameters in one loop per tensor instead of a chain of tensor ops (the same formulas,
  // rounded in a different order); 'plain' keeps the tensor ops.
  virtual void set_fused_kernels(bool on) {}

 protected:
  Optimizer(std::vector<torch::Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {}
  std::vector<torch::Tensor> params_;
  double lr_;
  int64_t iterations_ = 0;
};

std::unique_ptr<Optimizer> make_optimizer(std::vector<torch::Tensor> params, const OptimizerConfig& config);

}  // namespace torchfit
