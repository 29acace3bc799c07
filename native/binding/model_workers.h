// Model.evaluate, predict and save: JS arguments in, the core session's job on a worker thread, JS results out.
#pragma once

#include <string>

#include "binding/convert.h"
#include "core/session.h"
#include "binding/promise_worker.h"

namespace torchfit::binding {

class EvaluateWorker : public PromiseWorker {
 public:
  EvaluateWorker(Napi::Env env, std::shared_ptr<Session> state, ArraySource x, ArraySource y, int64_t batch_size);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<Session> state_;
  ArraySource x_, y_;
  int64_t batch_size_;
  EvalResult result_;
};

class PredictWorker : public PromiseWorker {
 public:
  PredictWorker(Napi::Env env, std::shared_ptr<Session> state, ArraySource x, int64_t batch_size);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<Session> state_;
  ArraySource x_;
  int64_t batch_size_;
  torch::Tensor probabilities_;
};

class SaveWorker : public PromiseWorker {
 public:
  SaveWorker(Napi::Env env, std::shared_ptr<Session> state, std::string path, std::string config_json,
             bool with_optimizer);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<Session> state_;
  std::string path_, config_json_;
  bool with_optimizer_;
};

}  // namespace torchfit::binding
