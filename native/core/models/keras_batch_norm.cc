#include "core/models/keras_batch_norm.h"

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

}  // namespace torchfit
