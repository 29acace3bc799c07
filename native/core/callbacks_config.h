// trainModel({ callbacks }): Keras's epoch-end callbacks as plain structs, validated and
// defaulted in TypeScript (src/torch/callbacks.ts). csvLogger is written by TypeScript and
// never reaches the core.
#pragma once

#include <string>
#include <vector>

namespace torchfit {

// The per-epoch figures a callback can watch (Keras's logs keys).
enum class Metric { Loss, Accuracy, ValLoss, ValAccuracy };

// Keras's EarlyStopping (2.15), baseline and start_from_epoch included.
struct EarlyStoppingConfig {
  Metric monitor = Metric::ValLoss;
  bool mode_max = false;             // false: lower is better
  int patience = 0;
  double min_delta = 0.0;            // >= 0
  bool restore_best_weights = false;
  bool has_baseline = false;
  double baseline = 0.0;
  int start_from_epoch = 0;          // epochs (0-based index) before this one are not watched
};

// Keras's ReduceLROnPlateau.
struct ReduceLrOnPlateauConfig {
  Metric monitor = Metric::ValLoss;
  bool mode_max = false;
  double factor = 0.1;               // in (0, 1)
  int patience = 10;
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

// One piece of a ModelCheckpoint path: literal text, or a field formatted as Python's
// str.format would ({epoch:02d}, {val_loss:.4f}, {loss}).
enum class PathField { Text, Epoch, Loss, Accuracy, ValLoss, ValAccuracy, LearningRate };
struct PathPart {
  PathField field = PathField::Text;
  std::string text;    // Text only
  char type = 0;       // 0 (Python's str()), 'd', 'f', 'e' or 'g'
  bool zero_pad = false;
  int width = 0;
  int precision = -1;  // -1: the type's default
};

// Keras's ModelCheckpoint, saving every epoch (save_freq 'epoch').
struct ModelCheckpointConfig {
  std::vector<PathPart> path;        // absolute once formatted
  Metric monitor = Metric::ValLoss;
  bool mode_max = false;
  bool save_best_only = false;
  bool save_weights_only = false;    // true: no optimizer state in the file
  bool has_initial_value_threshold = false;
  double initial_value_threshold = 0.0;
};

enum class CallbackKind { EarlyStopping, ReduceLrOnPlateau, ModelCheckpoint };

// One entry of the callbacks list; they run at each epoch end in the order given, as Keras runs them.
struct CallbackConfig {
  CallbackKind kind = CallbackKind::EarlyStopping;
  EarlyStoppingConfig early_stopping;
  ReduceLrOnPlateauConfig reduce_lr;
  ModelCheckpointConfig checkpoint;
};

// What a ModelCheckpoint file carries besides the tensors, as Model.save() writes it:
// {"config": <config_json>, "metadata": {"history": <earlier calls + this one>, "options": <options_json>}}.
struct CheckpointMetadata {
  std::string config_json = "{}";
  std::string options_json = "{}";
  // History of the calls before this one (resume), one column per History key.
  std::vector<double> epoch, loss, accuracy, val_loss, val_accuracy, seconds, ms_per_step, learning_rate;
};

}  // namespace torchfit
