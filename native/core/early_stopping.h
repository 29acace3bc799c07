// Keras's EarlyStopping callback, decision logic only (keras 2.15 semantics).
#pragma once

#include <limits>

#include "core/config.h"

namespace torchfit {

class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& config) : config_(config) {
    best_ = config.mode_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }

  enum class Verdict { Continue, Improved, Stop };

  // Called after each epoch's validation with the monitored value; epoch is 0-based.
  Verdict on_epoch_end(int epoch, double current) {
    ++wait_;
    if (improves(current, best_)) {
      best_ = current;
      best_epoch_ = epoch;
      wait_ = 0;
      return Verdict::Improved;
    }
    if (wait_ >= config_.patience && epoch > 0) {
      stopped_epoch_ = epoch;
      return Verdict::Stop;
    }
    return Verdict::Continue;
  }

  int best_epoch() const { return best_epoch_; }
  int stopped_epoch() const { return stopped_epoch_; }  // -1 when it never stopped
  double best() const { return best_; }
  int wait() const { return wait_; }

 private:
  bool improves(double current, double reference) const {
    return config_.mode_max ? current - config_.min_delta > reference : current + config_.min_delta < reference;
  }

  EarlyStoppingConfig config_;
  double best_;
  int best_epoch_ = 0;
  int stopped_epoch_ = -1;
  int wait_ = 0;
};

}  // namespace torchfit
