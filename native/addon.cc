// The one file that registers the addon's exports.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/internal.h"
#include "binding/model_wrap.h"
#include "binding/tensor_wrap.h"
#include "binding/train_worker.h"
#include "core/device.h"
#include "core/distributed/communicator.h"
#include "core/kernels/engine.h"
#include "core/kernels/kernel_table.h"
#include "core/live_tensors.h"
#include "core/models/describe.h"

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

// describeModel(modelSpec) -> { layers, trainableParams, nonTrainableParams, outputShape }:
// read from the real module (a forward pass), so tests check the model, not a table.
Napi::Value DescribeModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto d = describe_model(model_config_from(info[0].As<Napi::Object>()));
    auto result = Napi::Object::New(env);
    result.Set("layers", to_js(env, d.layers));
    result.Set("trainableParams", static_cast<double>(d.trainable_params));
    result.Set("nonTrainableParams", static_cast<double>(d.non_trainable_params));
    auto shape = Napi::Array::New(env, d.output_shape.size());
    for (size_t i = 0; i < d.output_shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(d.output_shape[i]));
    result.Set("outputShape", shape);
    return result;
  });
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
  register_internal(env, exports);
  return exports;
}

}  // namespace
}  // namespace torchfit::binding

static Napi::Object InitTorchfit(Napi::Env env, Napi::Object exports) { return torchfit::binding::Init(env, exports); }

NODE_API_MODULE(torchfit, InitTorchfit)
