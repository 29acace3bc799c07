// Callback decision logic run on a scripted metric series, for tests.
#pragma once

#include <string>
#include <vector>

#include "core/callbacks.h"
#include "core/early_stopping.h"

namespace torchfit {

// The 0-based epoch at which EarlyStopping stops on these monitored values, or -1.
inline int early_stopping_stop_epoch(const EarlyStoppingConfig& config, const std::vector<double>& values) {
  EarlyStopping early_stopping(config);
  for (size_t i = 0; i < values.size(); ++i) {
    if (early_stopping.on_epoch_end(static_cast<int>(i), values[i]) == EarlyStopping::Verdict::Stop) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// One epoch of the callbacks list run on scripted figures (no model): the rate it used and
// what the epoch-end callbacks decided (a stop, the checkpoint paths due).
struct CallbackTraceRow {
  int epoch = 0;  // 1-based
  double learning_rate = 0;
  bool stop = false;
  std::vector<std::string> saved;
};

// config: callbacks, epoch_learning_rates, initial_epoch; figures: one EpochRecord per epoch
// with loss, accuracy, val_loss, val_accuracy set. Ends at the first stop.
inline std::vector<CallbackTraceRow> callback_trace(const TrainConfig& config, double base_learning_rate,
                                                    std::vector<EpochRecord> figures) {
  EpochCallbacks callbacks(config, base_learning_rate, false);
  std::vector<CallbackTraceRow> rows;
  std::vector<EpochRecord> history;
  for (size_t i = 0; i < figures.size(); ++i) {
    EpochRecord r = figures[i];
    r.epoch = config.initial_epoch + static_cast<int>(i) + 1;
    r.epochs = config.initial_epoch + static_cast<int>(figures.size());
    r.learning_rate = callbacks.begin_epoch(r.epoch - 1);
    history.push_back(r);
    const auto end = callbacks.end_epoch(nullptr, nullptr, history);
    rows.push_back(CallbackTraceRow{r.epoch, r.learning_rate, end.stop, end.saved});
    if (end.stop) break;
  }
  return rows;
}

}  // namespace torchfit
