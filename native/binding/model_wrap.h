// The JS Model handle. Heavy work (evaluate, predict, save, restore) runs on workers.
#pragma once

#include <memory>
#include <napi.h>

#include "core/session.h"

namespace torchfit::binding {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<Session> state);
  // The state behind a handle; throws when it is not a live model handle.
  static std::shared_ptr<Session> session_of(const Napi::Value& value);

  explicit ModelWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Restore(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Predict(const Napi::CallbackInfo& info);
  Napi::Value Layers(const Napi::CallbackInfo& info);
  Napi::Value Config(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  const std::shared_ptr<Session>& live(Napi::Env env) const;

  std::shared_ptr<Session> state_;
};

Napi::Object model_config_to_js(Napi::Env env, const ModelConfig& config);

}  // namespace torchfit::binding
