// trainModel's worker: the fit loop off the event loop, every epoch record delivered.
#pragma once

#include <napi.h>
#include <optional>

#include "binding/convert.h"
#include "binding/model_state.h"
#include "binding/promise_worker.h"
#include "core/trainer.h"

namespace torchfit::binding {

struct TrainProgress {
  bool is_epoch = true;
  EpochRecord epoch;
  BatchRecord batch;
};

class TrainWorker : public Napi::AsyncProgressQueueWorker<TrainProgress> {
 public:
  // spec: { model, config, train: {x, shape, y}, validation?: {x, shape, y}, resume?: NativeModel }
  TrainWorker(Napi::Env env, const Napi::Object& spec, Napi::Function on_epoch, Napi::Function on_batch);
  Napi::Object job(Napi::Env env) { return settler_.job(env); }

 protected:
  void Execute(const ExecutionProgress& progress) override;
  void OnProgress(const TrainProgress* records, size_t count) override;
  void OnOK() override;
  void OnError(const Napi::Error&) override;

 private:
  Settler settler_;
  ModelConfig model_config_;
  TrainConfig config_;
  ArraySource train_x_, train_y_, train_w_, val_x_, val_y_;  // train_w_: per-sample loss weights, may be empty
  bool has_validation_ = false;
  std::shared_ptr<ModelState> resume_;
  Napi::FunctionReference on_epoch_, on_batch_;
  std::shared_ptr<ModelState> state_;
  TrainOutcome outcome_;
};

}  // namespace torchfit::binding
