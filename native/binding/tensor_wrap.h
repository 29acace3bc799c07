// The JS Tensor handle: owns one torch::Tensor until dispose() or garbage collection.
#pragma once

#include <napi.h>
#include <optional>
#include <torch/types.h>

#include "core/live_tensors.h"

namespace torchfit::binding {

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // The tensor behind a handle; throws a JS TypeError for anything else or a disposed handle.
  static torch::Tensor tensor_of(const Napi::Value& value);
  static Napi::Object wrap(Napi::Env env, torch::Tensor tensor);

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;

 private:
  static Napi::Value FromTypedArray(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArray(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  const torch::Tensor& live(Napi::Env env) const;
  void release(Napi::Env env);

  torch::Tensor tensor_;
  int64_t external_bytes_ = 0;
};

}  // namespace torchfit::binding
