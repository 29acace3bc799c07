// Background jobs on a trained model.
#pragma once

#include <optional>

#include <string>

#include "binding/convert.h"
#include "binding/model_state.h"
#include "binding/promise_worker.h"
#include "core/trainer.h"

namespace torchfit::binding {

class EvaluateWorker : public PromiseWorker {
 public:
  EvaluateWorker(Napi::Env env, std::shared_ptr<ModelState> state, ArraySource x, ArraySource y, int64_t batch_size);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<ModelState> state_;
  ArraySource x_, y_;
  int64_t batch_size_;
  EvalResult result_;
};

class PredictWorker : public PromiseWorker {
 public:
  PredictWorker(Napi::Env env, std::shared_ptr<ModelState> state, ArraySource x, int64_t batch_size);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<ModelState> state_;
  ArraySource x_;
  int64_t batch_size_;
  torch::Tensor probabilities_;
};

class SaveWorker : public PromiseWorker {
 public:
  SaveWorker(Napi::Env env, std::shared_ptr<ModelState> state, std::string path, std::string config_json,
             bool with_optimizer);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::shared_ptr<ModelState> state_;
  std::string path_, config_json_;
  bool with_optimizer_;
};

class LoadWorker : public PromiseWorker {
 public:
  // layers_spec: for a layers checkpoint, the model TypeScript resolved from its description.
  LoadWorker(Napi::Env env, std::string path, std::vector<char> bytes, std::string device,
             std::optional<ModelConfig> layers_spec = std::nullopt);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string path_;
  std::vector<char> bytes_;
  std::string device_;
  std::optional<ModelConfig> layers_spec_;
  std::shared_ptr<ModelState> state_;
  std::string config_json_;
};

// A model built from a plain state_dict (weights read from a torch.save file by TypeScript).
struct NamedArray {
  std::string name;
  ArraySource data;
  torch::ScalarType dtype;
};

class FromStateDictWorker : public PromiseWorker {
 public:
  FromStateDictWorker(Napi::Env env, ModelConfig config, std::vector<NamedArray> entries, std::string device,
                      std::string label);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  ModelConfig config_;
  std::vector<NamedArray> entries_;
  std::string device_, label_;
  std::shared_ptr<ModelState> state_;
};

}  // namespace torchfit::binding
