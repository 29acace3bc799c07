// The callbacks list of one fit() call (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint),
// run at every epoch end in the order given, as Keras runs them, and the learning rate
// they leave for each epoch.
#pragma once

#include <memory>
#include <string>
#include <torch/types.h>
#include <utility>
#include <vector>

#include "core/checkpoint_callback.h"
#include "core/early_stopping.h"
#include "core/reduce_lr.h"
#include "core/trainer.h"

namespace torchfit {

class EpochCallbacks {
 public:
  // base_learning_rate: the optimizer's rate (used when there is no schedule). writes_files:
  // this process saves the checkpoints (rank 0 of a distributed run; the others decide alike).
  EpochCallbacks(const TrainConfig& config, double base_learning_rate, bool writes_files);

  // The learning rate of an epoch (0-based index counted from the first epoch ever).
  double begin_epoch(int epoch) { return rates_.begin_epoch(epoch); }

  struct EpochEnd {
    bool stop = false;               // an EarlyStopping stops the run
    std::vector<std::string> saved;  // checkpoint files written (or due, in a dry run)
  };
  // After the epoch's validation. history: this call's epochs, the one that ended last. An
  // EarlyStopping that stops restores its best weights when asked to. model and optimizer
  // nullptr: a dry run for tests (decisions only: no weights kept, no files written).
  EpochEnd end_epoch(Classifier* model, const Optimizer* optimizer, const std::vector<EpochRecord>& history);

  int best_epoch() const;  // the first EarlyStopping's best epoch (0-based), -1 without one
  bool restored_best_weights() const { return restored_; }

 private:
  struct Stopper {
    EarlyStopping logic;
    bool restore;
    std::vector<torch::Tensor> best_weights;  // parameters and buffers, as Keras's get_weights()
  };

  const TrainConfig& config_;
  bool writes_files_;
  LearningRates rates_;
  std::vector<std::pair<CallbackKind, size_t>> order_;  // (kind, index in its vector), the user's order
  std::vector<Stopper> stoppers_;
  std::vector<ReduceLrOnPlateau> plateaus_;
  std::vector<ModelCheckpoint> checkpoints_;
  bool restored_ = false;
};

}  // namespace torchfit
