// Underscore-prefixed exports for the callbacks' tests (test/callbacks-logic.test.js):
// the epoch-end logic on a scripted series of figures, and Python's float formatting.
#include <napi.h>

#include "binding/convert_callbacks.h"
#include "binding/errors.h"
#include "binding/js_fields.h"
#include "core/checkpoint_callback.h"
#include "core/tools/traces.h"

namespace torchfit::binding {
namespace {

// _callbackTrace({ callbacks, learningRate, epochLearningRates?, initialEpoch? }, [{ loss, accuracy, valLoss, valAccuracy }])
//   -> [{ epoch, learningRate, stop, saved: [paths] }], one per epoch until a stop: what fit()
//   decides at each epoch end, without a model.
Napi::Value CallbackTrace(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto spec = info[0].As<Napi::Object>();
    TrainConfig config;
    config.callbacks = callbacks_from(spec.Get("callbacks"));
    const auto rates = spec.Get("epochLearningRates");
    if (rates.IsArray()) {
      const auto arr = rates.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); ++i) config.epoch_learning_rates.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
    }
    config.initial_epoch = static_cast<int>(number_or(spec, "initialEpoch", 0));
    const auto list = info[1].As<Napi::Array>();
    std::vector<EpochRecord> figures;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const auto f = list.Get(i).As<Napi::Object>();
      EpochRecord r;
      r.loss = number_or(f, "loss", NAN);
      r.accuracy = number_or(f, "accuracy", NAN);
      r.val_loss = number_or(f, "valLoss", NAN);
      r.val_accuracy = number_or(f, "valAccuracy", NAN);
      figures.push_back(r);
    }
    const auto rows = callback_trace(config, number_or(spec, "learningRate", 0.01), figures);
    auto out = Napi::Array::New(env, rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      auto row = Napi::Object::New(env);
      row.Set("epoch", rows[i].epoch);
      row.Set("learningRate", rows[i].learning_rate);
      row.Set("stop", rows[i].stop);
      auto saved = Napi::Array::New(env, rows[i].saved.size());
      for (size_t j = 0; j < rows[i].saved.size(); ++j) saved.Set(static_cast<uint32_t>(j), rows[i].saved[j]);
      row.Set("saved", saved);
      out.Set(static_cast<uint32_t>(i), row);
    }
    return out;
  });
}

// _pythonRepr(value) -> Python's repr() of the float, as checkpoint paths write it.
Napi::Value PythonRepr(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), python_float_repr(info[0].As<Napi::Number>().DoubleValue()));
}

}  // namespace

void register_internal_callbacks(Napi::Env env, Napi::Object exports) {
  exports.Set("_callbackTrace", Napi::Function::New(env, CallbackTrace));
  exports.Set("_pythonRepr", Napi::Function::New(env, PythonRepr));
}

}  // namespace torchfit::binding
