#include "core/distributed/agreement.h"

#include <cstring>

#include "core/errors.h"

namespace torchfit {
namespace {

int64_t bits_of(double value) {
  int64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

int64_t schedule_hash(const std::vector<double>& rates) {
  uint64_t h = rates.size();
  for (const double r : rates) h = h * 1000003u + static_cast<uint64_t>(bits_of(r));
  return static_cast<int64_t>(h);
}

// The kinds, monitors and numbers of the callbacks (paths aside: only rank 0 writes files).
int64_t callbacks_hash(const std::vector<CallbackConfig>& callbacks) {
  uint64_t h = callbacks.size();
  auto mix = [&h](int64_t v) { h = h * 1000003u + static_cast<uint64_t>(v); };
  for (const auto& c : callbacks) {
    mix(static_cast<int64_t>(c.kind));
    const auto& es = c.early_stopping;
    const auto& lr = c.reduce_lr;
    const auto& mc = c.checkpoint;
    switch (c.kind) {
      case CallbackKind::EarlyStopping:
        for (int64_t v : {static_cast<int64_t>(es.monitor), int64_t{es.mode_max}, int64_t{es.patience}, bits_of(es.min_delta),
                          int64_t{es.restore_best_weights}, int64_t{es.has_baseline}, bits_of(es.baseline),
                          int64_t{es.start_from_epoch}}) mix(v);
        break;
      case CallbackKind::ReduceLrOnPlateau:
        for (int64_t v : {static_cast<int64_t>(lr.monitor), int64_t{lr.mode_max}, bits_of(lr.factor), int64_t{lr.patience},
                          bits_of(lr.min_delta), int64_t{lr.cooldown}, bits_of(lr.min_lr)}) mix(v);
        break;
      case CallbackKind::ModelCheckpoint:
        for (int64_t v : {static_cast<int64_t>(mc.monitor), int64_t{mc.mode_max}, int64_t{mc.save_best_only}}) mix(v);
        break;
    }
  }
  return static_cast<int64_t>(h);
}

// Position-weighted, so that ranks given other labels or another order disagree on it.
int64_t label_checksum(const torch::Tensor& y) {
  if (!y.defined() || y.numel() == 0) return 0;
  const auto weights =
      torch::arange(y.size(0), torch::TensorOptions().dtype(torch::kInt64).device(y.device())).remainder(1009).add_(1);
  return (y.to(torch::kInt64) * weights).sum().item<int64_t>();
}

}  // namespace

void check_agreement(Communicator& comm, const std::vector<std::pair<std::string, int64_t>>& facts) {
  // One MAX all-reduce of (v, -v) gives every fact's maximum and minimum over the ranks.
  const auto n = static_cast<int64_t>(facts.size());
  auto both = torch::empty({2 * n}, torch::kInt64);
  auto* data = both.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    data[i] = facts[i].second;
    data[n + i] = -facts[i].second;
  }
  std::vector<torch::Tensor> tensors{both};
  comm.all_reduce_max(tensors, "comparing the ranks' options");
  for (int64_t i = 0; i < n; ++i) {
    const int64_t max = data[i], min = -data[n + i];
    if (max != min) {
      throw Error("ERR_DISTRIBUTED", "distributed rank " + std::to_string(comm.rank()) + " of " +
                                         std::to_string(comm.world_size()) + ": the ranks disagree on " + facts[i].first +
                                         " (this rank: " + std::to_string(facts[i].second) + ", others up to " +
                                         std::to_string(max) + " and down to " + std::to_string(min) +
                                         "): every rank must pass the same data and options, except distributed.rank");
    }
  }
}

void agree_on_run(Communicator& comm, torch::nn::Module& model, const torch::Tensor& train_y, const torch::Tensor& val_y,
                  const TrainConfig& config) {
  int64_t parameters = 0;
  for (const auto& p : model.parameters()) parameters += p.numel();
  check_agreement(comm, {
      {"the number of training images", train_y.size(0)},
      {"the training labels (checksum)", label_checksum(train_y)},
      {"the number of validation images", val_y.defined() ? val_y.size(0) : 0},
      {"the validation labels (checksum)", label_checksum(val_y)},
      {"the model's parameter count", parameters},
      {"epochs", config.epochs},
      {"batchSize", config.batch_size},
      {"seed", static_cast<int64_t>(config.seed)},
      {"shuffle", config.shuffle ? 1 : 0},
      {"the optimizer", config.optimizer.kind == OptimizerKind::Adam ? 1 : 0},
      {"the learning rate", bits_of(config.optimizer.learning_rate)},
      {"lrSchedule", schedule_hash(config.epoch_learning_rates)},
      {"initialEpoch", config.initial_epoch},
      {"the callbacks", callbacks_hash(config.callbacks)},
  });
}

}  // namespace torchfit
