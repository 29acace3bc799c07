#include "binding/restore_worker.h"

#include "binding/enums.h"
#include "binding/js_fields.h"
#include "binding/model_wrap.h"
#include "core/device.h"
#include "core/errors.h"

namespace torchfit::binding {
namespace {

// TypeScript sends float32 and int64 arrays whose length matches the shape; checked again
// here because from_blob would otherwise read past the array.
ArraySource array_with_shape(const Napi::Value& data, const Napi::Value& shape_value, const std::string& what) {
  if (!data.IsTypedArray()) throw Error("ERR_CHECKPOINT", what + " is not a typed array");
  const auto ta = data.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_float32_array && ta.TypedArrayType() != napi_bigint64_array) {
    throw Error("ERR_CHECKPOINT", what + " is neither float32 nor int64");
  }
  const auto shape = shape_from(shape_value);
  int64_t numel = 1;
  for (const auto d : shape) {
    if (d < 0 || (d > 0 && numel > INT64_MAX / d)) throw Error("ERR_CHECKPOINT", what + " has an invalid shape");
    numel *= d;
  }
  if (static_cast<size_t>(numel) != ta.ElementLength()) throw Error("ERR_CHECKPOINT", what + ": shape and data length differ");
  return ArraySource(data, shape);
}

}  // namespace

RestoreWorker::RestoreWorker(Napi::Env env, const Napi::Object& spec, const Napi::Array& state,
                             const Napi::Value& optimizer, std::string device, std::string label)
    : PromiseWorker(env), config_(model_config_from(spec)), device_(std::move(device)), label_(std::move(label)) {
  for (uint32_t i = 0; i < state.Length(); ++i) {
    const auto item = state.Get(i).As<Napi::Array>();
    auto name = item.Get(0u).As<Napi::String>().Utf8Value();
    auto array = array_with_shape(item.Get(1u), item.Get(2u), "state_dict entry '" + name + "'");
    state_arrays_.emplace_back(std::move(name), std::move(array));
  }
  if (optimizer.IsObject()) {
    const auto o = optimizer.As<Napi::Object>();
    OptimizerConfig c;
    c.kind = optimizer_kind_from(text(o, "name"));
    c.learning_rate = o.Get("learningRate").As<Napi::Number>().DoubleValue();
    c.momentum = o.Get("momentum").As<Napi::Number>().DoubleValue();
    c.nesterov = o.Get("nesterov").As<Napi::Boolean>().Value();
    c.beta1 = o.Get("beta1").As<Napi::Number>().DoubleValue();
    c.beta2 = o.Get("beta2").As<Napi::Number>().DoubleValue();
    c.epsilon = o.Get("epsilon").As<Napi::Number>().DoubleValue();
    optimizer_config_ = c;
    iterations_ = o.Get("iterations").As<Napi::Number>().Int64Value();
    const auto slots = o.Get("slots").As<Napi::Array>();
    for (uint32_t i = 0; i < slots.Length(); ++i) {
      const auto item = slots.Get(i).As<Napi::Array>();
      slot_arrays_.push_back(array_with_shape(item.Get(0u), item.Get(1u), "optimizer slot " + std::to_string(i)));
    }
  }
}

void RestoreWorker::Run() {
  RestoreRequest request;
  request.model = config_;
  request.device = resolve_device(device_);
  request.label = label_;
  // Views of the JS arrays (kept alive by the ArraySources until this worker is destroyed).
  for (const auto& [name, array] : state_arrays_) request.state.emplace_back(name, array.materialize(torch::kCPU, array.dtype()));
  if (optimizer_config_) {
    OptimizerRestore o;
    o.config = *optimizer_config_;
    o.iterations = iterations_;
    for (const auto& array : slot_arrays_) o.slots.push_back(array.materialize(torch::kCPU, array.dtype()));
    request.optimizer = std::move(o);
  }
  result_ = restore_session(request);
}

Napi::Value RestoreWorker::Result(Napi::Env env) {
  auto out = ModelWrap::wrap(env, result_);
  result_.reset();
  return out;
}

}  // namespace torchfit::binding
