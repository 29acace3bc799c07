#include "binding/model_workers.h"

#include <cstring>

namespace torchfit::binding {

EvaluateWorker::EvaluateWorker(Napi::Env env, std::shared_ptr<Session> state, ArraySource x, ArraySource y,
                               int64_t batch_size)
    : PromiseWorker(env), state_(std::move(state)), x_(std::move(x)), y_(std::move(y)), batch_size_(batch_size) {}

void EvaluateWorker::Run() { result_ = evaluate_session(*state_, x_, y_, batch_size_, cancel()); }

Napi::Value EvaluateWorker::Result(Napi::Env env) {
  auto out = Napi::Object::New(env);
  out.Set("loss", result_.loss);
  out.Set("accuracy", result_.accuracy);
  out.Set("samples", static_cast<double>(result_.samples));
  return out;
}

PredictWorker::PredictWorker(Napi::Env env, std::shared_ptr<Session> state, ArraySource x, int64_t batch_size)
    : PromiseWorker(env), state_(std::move(state)), x_(std::move(x)), batch_size_(batch_size) {}

void PredictWorker::Run() { probabilities_ = predict_session(*state_, x_, batch_size_, cancel()); }

Napi::Value PredictWorker::Result(Napi::Env env) {
  const size_t n = static_cast<size_t>(probabilities_.numel());
  auto out = Napi::Float32Array::New(env, n);
  if (n > 0) std::memcpy(out.Data(), probabilities_.data_ptr<float>(), n * sizeof(float));
  probabilities_ = torch::Tensor();
  return out;
}

SaveWorker::SaveWorker(Napi::Env env, std::shared_ptr<Session> state, std::string path, std::string config_json,
                       bool with_optimizer)
    : PromiseWorker(env),
      state_(std::move(state)),
      path_(std::move(path)),
      config_json_(std::move(config_json)),
      with_optimizer_(with_optimizer) {}

void SaveWorker::Run() { save_session(*state_, path_, config_json_, with_optimizer_); }

Napi::Value SaveWorker::Result(Napi::Env env) { return Napi::String::New(env, path_); }

}  // namespace torchfit::binding
