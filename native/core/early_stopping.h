// Keras's EarlyStopping callback, decision logic only (Keras 2.15 semantics, baseline and
// start_from_epoch included). Weights are kept and restored by core/callbacks.cc.
#pragma once

#include <limits>

#include "core/callbacks_config.h"

namespace torchfit {

class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& config) : config_(config) {
    best_ = config.mode_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }

  // Ignored: a warm-up epoch (before start_from_epoch), not watched.
  enum class Verdict { Ignored, Continue, Improved, Stop };

  // Called after each epoch's validation with the monitored value; epoch is the 0-based
  // index counted from the first epoch ever (initialEpoch included), as Keras passes it.
  Verdict on_epoch_end(int epoch, double current) {
    if (epoch < config_.start_from_epoch) return Verdict::Ignored;
    ++wait_;
    if (improves(current, best_)) {
      best_ = current;
      best_epoch_ = epoch;
      // The wait restarts only when the value beats the baseline as well as the best so far.
      if (!config_.has_baseline || improves(current, config_.baseline)) wait_ = 0;
      return Verdict::Improved;
    }
    if (wait_ >= config_.patience && epoch > 0) {
      stopped_epoch_ = epoch;
      return Verdict::Stop;
    }
    return Verdict::Continue;
  }

  Metric monitor() const { return config_.monitor; }
  int best_epoch() const { return best_epoch_; }        // -1 before any improvement
  int stopped_epoch() const { return stopped_epoch_; }  // -1 when it never stopped
  double best() const { return best_; }
  int wait() const { return wait_; }

 private:
  bool improves(double current, double reference) const {
    return config_.mode_max ? current - config_.min_delta > reference : current + config_.min_delta < reference;
  }

  EarlyStoppingConfig config_;
  double best_;
  int best_epoch_ = -1;
  int stopped_epoch_ = -1;
  int wait_ = 0;
};

}  // namespace torchfit
