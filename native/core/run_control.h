// Ending a run early and keeping the model: control.stop() from JavaScript (an atomic flag
// the binding raises) and the time limit, checked between batches and at each epoch end.
// With data-parallel training every rank takes the same decision at the same step: the
// ranks' flags are combined (a maximum over ranks), so any rank's stop() stops them all.
#pragma once

#include <atomic>
#include <chrono>

#include "core/config.h"
#include "core/distributed/communicator.h"

namespace torchfit {

enum class StopReason { None, EarlyStopping, Requested, TimeLimit };

class RunControl {
 public:
  // stop: control.stop()'s flag (nullptr: none). batch_stops: stop() may come from per-batch
  // callbacks, so the ranks compare flags after every step (else only at epoch ends).
  RunControl(const TrainConfig& config, const std::atomic<bool>* stop, bool batch_stops, Communicator* comm);

  // After each training step: true when the epoch in progress ends at this batch.
  bool end_epoch_now();
  // After the epoch-end callbacks: true when the run ends after this epoch.
  bool end_run_now();
  // Why the run ended early (None while it has not).
  StopReason reason() const { return reason_; }
  void set_reason(StopReason reason) { reason_ = reason; }

 private:
  // The local signals, combined over ranks when there are several; sets reason_.
  bool decide(bool combine);

  using Clock = std::chrono::steady_clock;
  const std::atomic<bool>* stop_;
  Communicator* comm_;
  Clock::time_point start_;
  double limit_ms_;
  bool per_step_ = true;
  StopReason reason_ = StopReason::None;
};

}  // namespace torchfit
