// The one file that registers the addon's exports.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/internal.h"
#include "binding/model_wrap.h"
#include "binding/probe_worker.h"
#include "binding/tensor_wrap.h"
#include "binding/train_worker.h"
#include "core/device.h"
#include "core/distributed/communicator.h"
#include "core/early_stopping.h"
#include "core/kernels/engine.h"
#include "core/kernels/kernel_table.h"
#include "core/live_tensors.h"
#include "core/models/classifier.h"

namespace torchfit::binding {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto r = runtime_info();
    auto out = Napi::Object::New(env);
    out.Set("libtorchVersion", r.libtorch_version);
    out.Set("cudaCompiled", r.cuda_compiled);
    out.Set("cudaAvailable", r.cuda_available);
    out.Set("deviceCount", r.device_count);
    if (!r.device_name.empty()) out.Set("deviceName", r.device_name);
    out.Set("threads", r.threads);
    out.Set("buildLibtorchVersion", TORCHFIT_LIBTORCH_VERSION);
    out.Set("buildTorchSource", TORCHFIT_TORCH_SOURCE);
    auto distributed = Napi::Object::New(env);
    distributed.Set("gloo", gloo_compiled());
    distributed.Set("nccl", nccl_compiled());
    out.Set("distributed", distributed);
    out.Set("cpuKernels", kernels::kernels().isa);
    out.Set("convEngine", kernels::engine_description());
    return out;
  });
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(live_tensors()));
}

// train(spec, onEpoch, onBatch) -> { promise, cancel }
Napi::Value Train(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    return queue_job(env, new TrainWorker(env, info[0].As<Napi::Object>(), info[1].As<Napi::Function>(),
                                   info[2].As<Napi::Function>()));
  });
}

// _dataParallelProbe(spec) -> { promise, cancel }: for the distributed tests only.
Napi::Value DataParallelProbe(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return queue_job(env, new ProbeWorker(env, info[0].As<Napi::Object>())); });
}

// describeModel(modelSpec) -> { layers, trainableParams, nonTrainableParams, outputShape }:
// builds the real module and runs a forward pass, so tests check the model, not a table.
Napi::Value DescribeModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto config = model_config_from(info[0].As<Napi::Object>());
    auto model = make_classifier(config, 0);
    int64_t trainable = 0, buffers = 0;
    for (const auto& p : model->parameters()) trainable += p.numel();
    for (const auto& b : model->named_buffers()) {
      if (b.key().find("num_batches_tracked") == std::string::npos) buffers += b.value().numel();
    }
    model->eval();
    c10::InferenceMode guard;
    const auto out = model->forward(torch::zeros({2, config.channels, config.height, config.width}));
    auto result = Napi::Object::New(env);
    result.Set("layers", to_js(env, model->layers()));
    result.Set("trainableParams", static_cast<double>(trainable));
    result.Set("nonTrainableParams", static_cast<double>(buffers));
    auto shape = Napi::Array::New(env, out.dim());
    for (int64_t i = 0; i < out.dim(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(out.size(i)));
    result.Set("outputShape", shape);
    return result;
  });
}

// initialWeights(modelSpec, seed) -> { name: Float32Array }: for initialiser tests.
Napi::Value InitialWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto config = model_config_from(info[0].As<Napi::Object>());
    auto model = make_classifier(config, static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
    auto out = Napi::Object::New(env);
    for (const auto& p : model->named_parameters()) {
      auto t = p.value().detach().contiguous();
      auto arr = Napi::Float32Array::New(env, static_cast<size_t>(t.numel()));
      std::memcpy(arr.Data(), t.data_ptr<float>(), t.nbytes());
      out.Set(p.key(), arr);
    }
    return out;
  });
}

// earlyStoppingTrace(config, values) -> stopped epoch (0-based) or -1: the callback's logic on a scripted series.
// config: { mode, patience, minDelta, baseline?, startFromEpoch? }
Napi::Value EarlyStoppingTrace(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto es = info[0].As<Napi::Object>();
  EarlyStoppingConfig config;
  config.mode_max = es.Get("mode").As<Napi::String>().Utf8Value() == "max";
  config.patience = es.Get("patience").As<Napi::Number>().Int32Value();
  config.min_delta = es.Get("minDelta").As<Napi::Number>().DoubleValue();
  if (es.Get("baseline").IsNumber()) {
    config.has_baseline = true;
    config.baseline = es.Get("baseline").As<Napi::Number>().DoubleValue();
  }
  if (es.Get("startFromEpoch").IsNumber()) config.start_from_epoch = es.Get("startFromEpoch").As<Napi::Number>().Int32Value();
  EarlyStopping early_stopping(config);
  const auto values = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < values.Length(); ++i) {
    if (early_stopping.on_epoch_end(static_cast<int>(i), values.Get(i).As<Napi::Number>().DoubleValue()) ==
        EarlyStopping::Verdict::Stop) {
      return Napi::Number::New(env, i);
    }
  }
  return Napi::Number::New(env, -1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  // Runs when this environment ends (before its instance data is freed): stop its jobs.
  napi_add_env_cleanup_hook(env, [](void* arg) { static_cast<AddonData*>(arg)->jobs.close(); }, data);
  TensorWrap::Init(env, exports);
  ModelWrap::Init(env, exports);
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("train", Napi::Function::New(env, Train));
  exports.Set("describeModel", Napi::Function::New(env, DescribeModel));
  exports.Set("initialWeights", Napi::Function::New(env, InitialWeights));
  exports.Set("earlyStoppingTrace", Napi::Function::New(env, EarlyStoppingTrace));
  exports.Set("_dataParallelProbe", Napi::Function::New(env, DataParallelProbe));
  register_internal(env, exports);
  return exports;
}

}  // namespace
}  // namespace torchfit::binding

static Napi::Object InitTorchfit(Napi::Env env, Napi::Object exports) { return torchfit::binding::Init(env, exports); }

NODE_API_MODULE(torchfit, InitTorchfit)
