#include "core/callbacks.h"

namespace torchfit {
namespace {

// Parameters and buffers (BatchNorm moving statistics), as Keras's get_weights() holds them.
std::vector<torch::Tensor> snapshot(Classifier& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : model.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : model.buffers()) out.push_back(b.detach().clone());
  return out;
}

void restore(Classifier& model, const std::vector<torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : model.parameters()) p.copy_(saved[i++]);
  for (auto& b : model.buffers()) b.copy_(saved[i++]);
}

}  // namespace

EpochCallbacks::EpochCallbacks(const TrainConfig& config, double base_learning_rate, bool writes_files)
    : config_(config), writes_files_(writes_files), rates_(base_learning_rate, config.epoch_learning_rates) {
  for (const auto& c : config.callbacks) {
    switch (c.kind) {
      case CallbackKind::EarlyStopping:
        order_.emplace_back(c.kind, stoppers_.size());
        stoppers_.push_back(Stopper{EarlyStopping(c.early_stopping), c.early_stopping.restore_best_weights, {}});
        break;
      case CallbackKind::ReduceLrOnPlateau:
        order_.emplace_back(c.kind, plateaus_.size());
        plateaus_.emplace_back(c.reduce_lr);
        break;
      case CallbackKind::ModelCheckpoint:
        order_.emplace_back(c.kind, checkpoints_.size());
        checkpoints_.emplace_back(c.checkpoint);
        break;
    }
  }
}

EpochCallbacks::EpochEnd EpochCallbacks::end_epoch(Classifier* model, const Optimizer* optimizer,
                                                   const std::vector<EpochRecord>& history) {
  const EpochRecord& record = history.back();
  const int epoch = record.epoch - 1;
  EpochEnd out;
  for (const auto& [kind, index] : order_) {
    switch (kind) {
      case CallbackKind::EarlyStopping: {
        auto& s = stoppers_[index];
        const auto verdict = s.logic.on_epoch_end(epoch, metric_value(record, s.logic.monitor()));
        if (verdict == EarlyStopping::Verdict::Ignored) break;
        // Keras keeps the first watched epoch's weights, then every improvement's.
        if (model != nullptr && s.restore && (s.best_weights.empty() || verdict == EarlyStopping::Verdict::Improved)) {
          s.best_weights = snapshot(*model);
        }
        if (verdict == EarlyStopping::Verdict::Stop) {
          out.stop = true;
          if (model != nullptr && s.restore && !s.best_weights.empty()) {
            restore(*model, s.best_weights);
            restored_ = true;
          }
        }
        break;
      }
      case CallbackKind::ReduceLrOnPlateau: {
        auto& p = plateaus_[index];
        if (p.on_epoch_end(metric_value(record, p.config().monitor), rates_.current()) &&
            rates_.reduce(p.config().factor, p.config().min_lr)) {
          p.reduced();
        }
        break;
      }
      case CallbackKind::ModelCheckpoint: {
        auto& c = checkpoints_[index];
        if (!c.should_save(record)) break;
        if (model == nullptr) {
          out.saved.push_back(c.path(record));
        } else if (writes_files_) {
          out.saved.push_back(c.save(record, *model, *optimizer, config_.optimizer, config_.checkpoint_metadata, history));
        }
        break;
      }
    }
  }
  return out;
}

int EpochCallbacks::best_epoch() const { return stoppers_.empty() ? -1 : stoppers_.front().logic.best_epoch(); }

}  // namespace torchfit
