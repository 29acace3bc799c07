// Model.load's native step: typed arrays from TypeScript -> RestoreRequest -> a model handle.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "binding/convert.h"
#include "binding/promise_worker.h"
#include "core/session.h"

namespace torchfit::binding {

class RestoreWorker : public PromiseWorker {
 public:
  // spec: model description; state: [[name, typedArray, shape], ...]; optimizer: null or
  // { name, learningRate, momentum, nesterov, beta1, beta2, epsilon, iterations, slots: [[typedArray, shape], ...] }
  RestoreWorker(Napi::Env env, const Napi::Object& spec, const Napi::Array& state, const Napi::Value& optimizer,
                std::string device, std::string label);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  ModelConfig config_;
  std::vector<std::pair<std::string, ArraySource>> state_arrays_;
  std::optional<OptimizerConfig> optimizer_config_;
  int64_t iterations_ = 0;
  std::vector<ArraySource> slot_arrays_;
  std::string device_, label_;
  std::shared_ptr<Session> result_;
};

}  // namespace torchfit::binding
