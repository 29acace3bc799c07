// trainModel's worker: the fit loop off the event loop, every epoch record delivered.
#pragma once

#include <condition_variable>
#include <mutex>
#include <napi.h>
#include <optional>

#include "binding/convert.h"
#include "binding/promise_worker.h"
#include "core/session.h"

namespace torchfit::binding {

struct TrainProgress {
  bool is_epoch = true;
  EpochRecord epoch;
  BatchRecord batch;
  uint64_t ticket = 0;  // > 0: the worker waits until JavaScript has handled this record
};

// The worker waits for JavaScript's user callbacks (onEpochEnd, onBatchEnd) as Keras's loop
// runs its callbacks: a control.stop() there is seen before the next batch.
class CallbackGate {
 public:
  uint64_t next_ticket() { return ++issued_; }
  // Worker thread: until JavaScript handled `ticket`, or the job is cancelled.
  void wait(uint64_t ticket, const std::atomic<bool>* cancel);
  // Main thread: records up to `ticket` were handled (UINT64_MAX: give up waiting).
  void handled(uint64_t ticket);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t issued_ = 0;
  uint64_t handled_ = 0;
};

class TrainWorker : public Napi::AsyncProgressQueueWorker<TrainProgress> {
 public:
  // spec: { model, config, train: {x, shape, y}, validation?: {x, shape, y}, resume?: NativeModel,
  //         awaitCallbacks?: { epoch, batch }, checkpointMetadata?: {...} }
  TrainWorker(Napi::Env env, const Napi::Object& spec, Napi::Function on_epoch, Napi::Function on_batch);
  // { promise, cancel(), stop() }: stop() ends the run after the current batch, keeping the model.
  Napi::Object job(Napi::Env env);

 protected:
  void Execute(const ExecutionProgress& progress) override;
  void OnProgress(const TrainProgress* records, size_t count) override;
  void OnOK() override;
  void OnError(const Napi::Error&) override;

 private:
  Settler settler_;
  // The JS arrays, kept alive until the worker is destroyed; request_.data points at them.
  ArraySource train_x_, train_y_, train_w_, val_x_, val_y_;
  TrainRequest request_;
  Napi::FunctionReference on_epoch_, on_batch_;
  TrainResult result_;
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
  bool await_epoch_ = false, await_batch_ = false;
  CallbackGate gate_;
};

}  // namespace torchfit::binding
