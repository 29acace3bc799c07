#include "core/models/keras_batch_norm.h"

#include <cstdio>

#include "core/kernels/activation_bn_pool.h"
#include "core/models/classifier.h"

namespace torchfit {

KerasBatchNormImpl::KerasBatchNormImpl(int64_t features, double momentum, double epsilon)
    : features_(features), momentum_(momentum), epsilon_(epsilon) {
  weight = register_parameter("weight", torch::ones({features}));
  bias = register_parameter("bias", torch::zeros({features}));
  running_mean = register_buffer("running_mean", torch::zeros({features}));
  running_var = register_buffer("running_var", torch::ones({features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
}

torch::Tensor activation_bn_pool2x2(const torch::Tensor& z, kernels::PoolActivation act, KerasBatchNormImpl& bn,
                                    bool fused) {
  if (fused && kernels::activation_bn_pool_applies(z, bn.weight)) {
    bn.count_batch();
    return kernels::activation_bn_pool(z, act, bn.weight, bn.bias, bn.running_mean, bn.running_var, bn.is_training(),
                                       bn.momentum(), bn.epsilon());
  }
  const auto a = act == kernels::PoolActivation::relu ? torch::relu(z) : torch::sigmoid(z);
  return torch::max_pool2d(bn.forward(a), {2, 2}, {2, 2});
}

void KerasBatchNormImpl::count_batch() {
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
}

torch::Tensor KerasBatchNormImpl::forward(const torch::Tensor& input) {
  count_batch();
  // torch::batch_norm directly: the module wrapper's check refuses a (1, C) training batch,
  // which the trainer already avoids by skipping a trailing single-image batch.
  return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum_, epsilon_,
                           /*cudnn_enabled=*/true);
}

void set_batch_norm_momentum(torch::nn::Module& root, double momentum) {
  for (const auto& module : root.modules(/*include_self=*/false)) {
    if (auto* bn = module->as<KerasBatchNormImpl>()) bn->set_momentum(momentum);
  }
}

std::string keras_batch_norm_text(double momentum, double epsilon) {
  char text[64];
  // 12 significant digits: 1 - 0.01 prints as 0.99, not 0.98999999999999999.
  std::snprintf(text, sizeof text, "momentum %.12g, epsilon %.12g", 1.0 - momentum, epsilon);
  return text;
}

}  // namespace torchfit
