// Keras's ReduceLROnPlateau (2.15), decision logic only, and the learning rate a run uses
// per epoch: the schedule's (or the optimizer's) rate with the plateau reductions so far.
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

#include "core/callbacks_config.h"

namespace torchfit {

// The rate of each epoch. Without a schedule it is Keras's single variable: a reduction
// sets it to max(rate * factor, min_lr) for the epochs after. With a schedule (one rate per
// epoch from TypeScript) reductions compose multiplicatively: epoch e uses schedule[e] times
// the product of every reduction's ratio (new / old) so far.
class LearningRates {
 public:
  LearningRates(double base, std::vector<double> schedule) : schedule_(std::move(schedule)), current_(base) {}

  // Called at the start of each epoch (0-based index counted from the first epoch ever).
  double begin_epoch(int epoch) {
    if (!schedule_.empty()) current_ = schedule_[std::min<size_t>(epoch, schedule_.size() - 1)] * scale_;
    return current_;
  }
  double current() const { return current_; }

  // Keras: only when the rate is above min_lr (compared as float32, as Keras does);
  // returns whether it changed.
  bool reduce(double factor, double min_lr) {
    if (!(current_ > static_cast<double>(static_cast<float>(min_lr)))) return false;
    const double next = std::max(current_ * factor, min_lr);
    if (!schedule_.empty()) scale_ *= next / current_;
    current_ = next;
    return true;
  }

 private:
  std::vector<double> schedule_;
  double current_;
  double scale_ = 1.0;
};

class ReduceLrOnPlateau {
 public:
  explicit ReduceLrOnPlateau(const ReduceLrOnPlateauConfig& config) : config_(config) {
    best_ = config.mode_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }

  // After each epoch with the monitored value: true when the rate should be reduced now
  // (the caller then calls reduced() if LearningRates::reduce changed it).
  bool on_epoch_end(double current, double lr) {
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    if (config_.mode_max ? current > best_ + config_.min_delta : current < best_ - config_.min_delta) {
      best_ = current;
      wait_ = 0;
      return false;
    }
    if (cooldown_counter_ > 0) return false;
    ++wait_;
    return wait_ >= config_.patience && lr > static_cast<double>(static_cast<float>(config_.min_lr));
  }
  // The rate was reduced: cool down, wait afresh.
  void reduced() {
    cooldown_counter_ = config_.cooldown;
    wait_ = 0;
  }
  const ReduceLrOnPlateauConfig& config() const { return config_; }

 private:
  ReduceLrOnPlateauConfig config_;
  double best_;
  int wait_ = 0;
  int cooldown_counter_ = 0;
};

}  // namespace torchfit
