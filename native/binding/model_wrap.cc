#include "binding/model_wrap.h"

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/model_workers.h"
#include "binding/restore_worker.h"

namespace torchfit::binding {

void ModelWrap::Init(Napi::Env env, Napi::Object exports) {
  auto ctor = DefineClass(env, "NativeModel",
                          {StaticMethod("restore", &ModelWrap::Restore),
                           InstanceMethod("evaluate", &ModelWrap::Evaluate),
                           InstanceMethod("predict", &ModelWrap::Predict),
                           InstanceMethod("layers", &ModelWrap::Layers),
                           InstanceMethod("config", &ModelWrap::Config),
                           InstanceMethod("save", &ModelWrap::Save),
                           InstanceMethod("dispose", &ModelWrap::Dispose),
                           InstanceAccessor("disposed", &ModelWrap::Disposed, nullptr),
                           InstanceAccessor("device", &ModelWrap::Device, nullptr)});
  addon_data(env).model_constructor = Napi::Persistent(ctor);
  exports.Set("NativeModel", ctor);
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeModel handles come from trainModel() or Model.load()");
  }
  state_ = *info[0].As<Napi::External<std::shared_ptr<Session>>>().Data();
}

Napi::Object ModelWrap::wrap(Napi::Env env, std::shared_ptr<Session> state) {
  auto external = Napi::External<std::shared_ptr<Session>>::New(env, &state);
  return addon_data(env).model_constructor.New({external});
}

std::shared_ptr<Session> ModelWrap::session_of(const Napi::Value& value) {
  auto env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon_data(env).model_constructor.Value())) {
    throw Napi::TypeError::New(env, "expected a Model");
  }
  return Unwrap(value.As<Napi::Object>())->live(env);
}

const std::shared_ptr<Session>& ModelWrap::live(Napi::Env env) const {
  if (!state_) {
    auto error = Napi::Error::New(env, "the Model was disposed");
    error.Set("code", Napi::String::New(env, "ERR_DISPOSED"));
    throw error;
  }
  return state_;
}

// evaluate(x, xShape, y, batchSize, channelsLast) -> { promise, cancel }
Napi::Value ModelWrap::Evaluate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ArraySource x(info[0], shape_from(info[1]), info[4].ToBoolean().Value());
    const int64_t n = shape_from(info[1]).at(0);
    ArraySource y(info[2], {n});
    return queue_job(env, new EvaluateWorker(env, live(env), std::move(x), std::move(y), info[3].As<Napi::Number>().Int64Value()));
  });
}

// predict(x, xShape, batchSize, channelsLast) -> { promise: Float32Array (N * classes), cancel }
Napi::Value ModelWrap::Predict(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ArraySource x(info[0], shape_from(info[1]), info[3].ToBoolean().Value());
    return queue_job(env, new PredictWorker(env, live(env), std::move(x), info[2].As<Napi::Number>().Int64Value()));
  });
}

Napi::Value ModelWrap::Layers(const Napi::CallbackInfo& info) {
  return to_js(info.Env(), live(info.Env())->model->layers());
}

Napi::Object model_config_to_js(Napi::Env env, const ModelConfig& c) {
  auto out = Napi::Object::New(env);
  out.Set("kind", c.kind == ModelKind::ResNet ? "resnet" : c.kind == ModelKind::Layers ? "layers" : "cnn");
  if (c.kind == ModelKind::Layers) out.Set("layersJson", c.layers_json);
  out.Set("depth", c.depth);
  out.Set("numClasses", c.num_classes);
  out.Set("channels", c.channels);
  out.Set("height", c.height);
  out.Set("width", c.width);
  if (c.kind != ModelKind::Layers) out.Set("bnMomentum", c.bn_momentum);
  return out;
}

Napi::Value ModelWrap::Config(const Napi::CallbackInfo& info) {
  const auto& state = live(info.Env());
  auto out = model_config_to_js(info.Env(), state->model->config());
  out.Set("hasOptimizerState", Napi::Boolean::New(info.Env(), state->optimizer != nullptr));
  return out;
}

// save(path, configJson, withOptimizer) -> { promise, cancel }
Napi::Value ModelWrap::Save(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    return queue_job(env, new SaveWorker(env, live(env), info[0].As<Napi::String>().Utf8Value(),
                                  info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Boolean>().Value()));
  });
}

// restore(modelSpec, [[name, typedArray, shape], ...], optimizer | null, device, label) -> { promise: NativeModel, cancel }
// The arrays are what TypeScript read from the checkpoint and vetted; no file is read here.
Napi::Value ModelWrap::Restore(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    return queue_job(env, new RestoreWorker(env, info[0].As<Napi::Object>(), info[1].As<Napi::Array>(), info[2],
                                            info[3].As<Napi::String>().Utf8Value(), info[4].As<Napi::String>().Utf8Value()));
  });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();  // a running worker keeps its own reference until it finishes
  return info.Env().Undefined();
}

Napi::Value ModelWrap::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !state_); }

Napi::Value ModelWrap::Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), live(info.Env())->device.str());
}

}  // namespace torchfit::binding
