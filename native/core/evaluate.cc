#include "core/errors.h"
#include "core/kernels/buffer_pool.h"
#include "core/trainer.h"
#include "core/weighted_loss.h"

namespace torchfit {
namespace {

// Restores the module's previous train/eval mode on scope exit.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Classifier& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvalModeGuard() { model_.train(was_training_); }

 private:
  Classifier& model_;
  bool was_training_;
};

// With fused kernels on the CPU a model infers at most this many images at a time, whatever
// the evaluation batch (1,024 by default; kernels: 'plain' keeps libtorch's one call). Each
// image's logits depend on its own pixels only (the engine may pick another kernel for a small
// last slice: the same maths, other rounding), and slices of a training batch's size reuse the
// buffers training left in the pool. At 1,024 images a ResNet's activations are 51 MB each:
// fit's validation displaced the training step's blocks and the next epoch page-faulted them
// in again (ResNet-32: 20,000 faults an epoch, about 0.2 s; now 3,000), and outside the caches
// the memory-bound passes ran slower.
constexpr int64_t kCpuInferenceSlice = 128;

torch::Tensor infer(Classifier& model, const torch::Tensor& x) {
  const int64_t n = x.size(0);
  if (!x.device().is_cpu() || !model.fused_kernels() || n <= kCpuInferenceSlice) return model.forward(x);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < n; start += kCpuInferenceSlice) {
    parts.push_back(model.forward(x.slice(0, start, std::min(n, start + kCpuInferenceSlice))));
  }
  return torch::cat(parts, 0);
}

}  // namespace

EvalSums evaluate_sums(Classifier& model, const LabelledData& data, int64_t batch_size, const std::atomic<bool>* cancel) {
  EvalModeGuard mode(model);
  c10::InferenceMode inference;
  kernels::RecycledJob recycled_job;
  const int64_t n = data.size();
  auto options = torch::TensorOptions().device(data.x.device());
  auto loss_sum = torch::zeros({}, options.dtype(torch::kFloat64));
  auto correct = torch::zeros({}, options.dtype(torch::kInt64));
  for (int64_t start = 0; start < n; start += batch_size) {
    check_cancel(cancel);
    const int64_t end = std::min(n, start + batch_size);
    auto logits = infer(model, data.x.slice(0, start, end));
    auto y = data.y.slice(0, start, end);
    loss_sum += summed_cross_entropy(logits, y, data.w.defined() ? data.w.slice(0, start, end) : torch::Tensor());
    correct += logits.argmax(1).eq(y).sum();
  }
  EvalSums sums;
  sums.samples = n;
  if (n == 0) return sums;
  sums.loss_sum = loss_sum.item<double>();
  sums.correct = static_cast<double>(correct.item<int64_t>());
  return sums;
}

EvalResult finish_evaluation(Classifier& model, const EvalSums& sums) {
  EvalResult result;
  result.samples = sums.samples;
  if (sums.samples == 0) return result;
  double loss = sums.loss_sum / static_cast<double>(sums.samples);
  c10::InferenceMode inference;
  auto reg = model.regularization_loss();
  if (reg.defined()) loss += reg.item<double>();
  result.loss = loss;
  result.accuracy = sums.correct / static_cast<double>(sums.samples);
  return result;
}

EvalResult evaluate(Classifier& model, const LabelledData& data, int64_t batch_size, const std::atomic<bool>* cancel) {
  return finish_evaluation(model, evaluate_sums(model, data, batch_size, cancel));
}

torch::Tensor predict(Classifier& model, const torch::Tensor& x, int64_t batch_size, const std::atomic<bool>* cancel) {
  EvalModeGuard mode(model);
  c10::InferenceMode inference;
  kernels::RecycledJob recycled_job;
  const int64_t n = x.size(0);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < n; start += batch_size) {
    check_cancel(cancel);
    const int64_t end = std::min(n, start + batch_size);
    parts.push_back(torch::softmax(infer(model, x.slice(0, start, end)), 1).to(torch::kCPU, torch::kFloat32));
  }
  if (parts.empty()) return torch::zeros({0, model.config().num_classes}, torch::kFloat32);
  return torch::cat(parts, 0).contiguous();
}

}  // namespace torchfit
