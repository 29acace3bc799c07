// The fit loop: Keras's Model.fit semantics on libtorch.
#pragma once

#include <atomic>
#include <functional>
#include <torch/types.h>
#include <vector>

#include "core/config.h"
#include "core/distributed/communicator.h"
#include "core/models/classifier.h"
#include "core/optimizer.h"
#include "core/run_control.h"

namespace torchfit {

// Images (N, C, H, W) float32 and class indices (N) int64, on the training device; w: per-sample
// loss weights (N) float32 (classWeight/sampleWeight, core/weighted_loss.h), undefined: unweighted.
struct LabelledData {
  torch::Tensor x;
  torch::Tensor y;
  torch::Tensor w;
  int64_t size() const { return x.size(0); }
};

struct EpochRecord {
  int epoch = 0;  // 1-based, counted from the first epoch ever (initial_epoch included)
  int epochs = 0; // the last epoch's number
  double loss = 0, accuracy = 0;
  double val_loss = NAN, val_accuracy = NAN;  // NaN without validation data
  double seconds = 0, ms_per_step = 0;
  int64_t steps = 0;  // steps run: fewer than the epoch's when the run stopped inside it
  double learning_rate = 0;
};

struct BatchRecord {
  int epoch = 0;
  int64_t step = 0, steps = 0;
  double loss = 0, accuracy = 0;
  double elapsed_seconds = 0;
};

struct TrainCallbacks {
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(const BatchRecord&)> on_batch;
  const std::atomic<bool>* cancel = nullptr;
  // control.stop(): end after the current batch (or epoch) and keep the model. on_epoch and
  // on_batch may block until JavaScript has seen the record, so a stop() there takes effect
  // at once. batch_stops: on_batch's receiver may call stop() (distributed runs then compare
  // flags every step).
  const std::atomic<bool>* stop = nullptr;
  bool batch_stops = false;
};

struct TrainOutcome {
  std::vector<EpochRecord> history;
  int stopped_epoch = -1;  // 0-based epoch after which the run stopped early, -1 if it did not
  StopReason stop_reason = StopReason::None;
  int best_epoch = -1;
  bool restored_best_weights = false;
};

// comm: data-parallel training with the other ranks (nullptr: this process alone). Every
// rank passes the same data; each trains on its shard of every epoch's order, and all
// ranks return the same history (timings aside) and the same weights.
// One optimisation step as fit runs it (zero_grad, forward, loss with the regulariser,
// backward, before_step (the data-parallel gradient average), step): returns the loss and the logits.
// weights: the batch's per-sample loss weights (undefined: unweighted).
std::pair<torch::Tensor, torch::Tensor> train_step(Classifier& model, Optimizer& optimizer, const torch::Tensor& x,
                                                   const torch::Tensor& y, const std::function<void()>& before_step = {},
                                                   const torch::Tensor& weights = {});

TrainOutcome fit(Classifier& model, Optimizer& optimizer, const LabelledData& train, const LabelledData* validation,
                 const TrainConfig& config, const TrainCallbacks& callbacks, Communicator* comm = nullptr);

struct EvalResult {
  double loss = 0;      // mean cross-entropy plus the regularisation term, as Keras reports it
  double accuracy = 0;
  int64_t samples = 0;
};

// Sums over a dataset, before the division: what ranks add up in distributed validation.
struct EvalSums {
  double loss_sum = 0;  // summed cross-entropy, without the regularisation term
  double correct = 0;
  int64_t samples = 0;
};
EvalSums evaluate_sums(Classifier& model, const LabelledData& data, int64_t batch_size,
                       const std::atomic<bool>* cancel = nullptr);
// Means from sums over all of the data, plus the model's regularisation term (as Keras reports).
EvalResult finish_evaluation(Classifier& model, const EvalSums& sums);

// Inference mode, batched; cancel is checked every batch.
EvalResult evaluate(Classifier& model, const LabelledData& data, int64_t batch_size,
                    const std::atomic<bool>* cancel = nullptr);

// Softmax probabilities (N, num_classes), float32 on the CPU.
torch::Tensor predict(Classifier& model, const torch::Tensor& x, int64_t batch_size,
                      const std::atomic<bool>* cancel = nullptr);

}  // namespace torchfit
