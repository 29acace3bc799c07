// Keras's ModelCheckpoint: the decision (every epoch, or only when the monitored value
// improves) and the file, in Model.save()'s format, written atomically (core/checkpoint.h),
// its path formatted from the epoch's figures as Python's str.format would.
#pragma once

#include <string>
#include <vector>

#include "core/callbacks_config.h"
#include "core/trainer.h"

namespace torchfit {

class ModelCheckpoint {
 public:
  explicit ModelCheckpoint(const ModelCheckpointConfig& config);
  // Whether this epoch is saved (save_best_only: strictly better than the best so far,
  // no min_delta, NaN never; the best is then updated).
  bool should_save(const EpochRecord& record);
  // The file of this epoch.
  std::string path(const EpochRecord& record) const;
  // Writes the file for this epoch; returns its path. history: every epoch so far, this one included.
  std::string save(const EpochRecord& record, Classifier& model, const Optimizer& optimizer,
                   const OptimizerConfig& optimizer_config, const CheckpointMetadata& metadata,
                   const std::vector<EpochRecord>& history) const;

 private:
  ModelCheckpointConfig config_;
  double best_;
};

// A monitored figure of an epoch.
double metric_value(const EpochRecord& record, Metric metric);

// The path of an epoch's checkpoint: {epoch} is the 1-based epoch, as Keras formats it.
std::string format_checkpoint_path(const std::vector<PathPart>& parts, const EpochRecord& record);

// Python's repr() of a float: '0.5', '1e-05', '1.0', 'nan'.
std::string python_float_repr(double value);

// {"config": ..., "metadata": {"history": ..., "options": ...}}: the earlier calls' history
// followed by this call's epochs, non-finite numbers as {"$number": "NaN"} (Model.save()'s encoding).
std::string checkpoint_config_json(const CheckpointMetadata& metadata, const std::vector<EpochRecord>& history);

}  // namespace torchfit
