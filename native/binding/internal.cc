#include "binding/internal.h"

#include "binding/convert.h"
#include "binding/enums.h"
#include "binding/errors.h"
#include "binding/js_fields.h"
#include "binding/probe_worker.h"
#include "binding/addon_data.h"
#include <chrono>
#include <cstring>

#include "core/augment.h"
#include "core/init.h"
#include "core/tools/compare.h"
#include "core/kernels/kernel_table.h"
#include "core/kernels/roofline.h"
#include "core/models/describe.h"
#include "core/tools/step_profile.h"
#include "core/tools/traces.h"

namespace torchfit::binding {
namespace {

// _profileStep(modelSpec, { optimizer, learningRate, batchSize, threads, kernels, seed, warmup, steps, byShape, timed })
//   -> { msPerStep, stepMs: [every timed step], ops: [{ name, selfMs, totalMs, calls }] }
Napi::Value ProfileStep(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto model = model_config_from(info[0].As<Napi::Object>());
    const auto o = info[1].As<Napi::Object>();
    TrainConfig config;
    config.optimizer.kind = optimizer_kind_from(text(o, "optimizer"));
    config.optimizer.learning_rate = o.Get("learningRate").As<Napi::Number>().DoubleValue();
    config.batch_size = int_or(o, "batchSize", 128);
    config.threads = int_or(o, "threads", 0);
    config.seed = static_cast<uint64_t>(int_or(o, "seed", 0));
    config.fused_kernels = o.Get("kernels").As<Napi::String>().Utf8Value() != "plain";
    const auto profile = profile_steps(model, config, int_or(o, "warmup", 5), int_or(o, "steps", 5),
                                        o.Get("byShape").ToBoolean().Value(), int_or(o, "timed", -1));
    auto out = Napi::Object::New(env);
    out.Set("msPerStep", profile.ms_per_step);
    auto step_ms = Napi::Array::New(env, profile.step_ms.size());
    for (size_t i = 0; i < profile.step_ms.size(); ++i) step_ms.Set(static_cast<uint32_t>(i), profile.step_ms[i]);
    out.Set("stepMs", step_ms);
    auto ops = Napi::Array::New(env, profile.ops.size());
    for (size_t i = 0; i < profile.ops.size(); ++i) {
      auto op = Napi::Object::New(env);
      op.Set("name", profile.ops[i].name);
      op.Set("selfMs", profile.ops[i].self_ms);
      op.Set("totalMs", profile.ops[i].total_ms);
      op.Set("calls", profile.ops[i].calls);
      ops.Set(static_cast<uint32_t>(i), op);
    }
    out.Set("ops", ops);
    return out;
  });
}

// _compareKernels({ op, batch, channels, height, width, pad, training, inputGrad, negativeGamma,
//                   outChannels, kernel, stride, padding, residual, relu,
//                   steps, model, optimizer, learningRate, seed, threads, isa })
//   -> [{ name, maxAbs, fusedErr, plainErr, refMax, numel }]: fused against plain (and both
//   against float64) on the same random inputs.
Napi::Value CompareKernels(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto o = info[0].As<Napi::Object>();
    kernels::CompareSpec spec;
    spec.op = o.Get("op").As<Napi::String>().Utf8Value();
    spec.batch = int_or(o, "batch", 4);
    spec.channels = int_or(o, "channels", 8);
    spec.height = int_or(o, "height", 28);
    spec.width = int_or(o, "width", 28);
    spec.pad = int_or(o, "pad", 0);
    spec.out_channels = int_or(o, "outChannels", 8);
    spec.kernel = int_or(o, "kernel", 3);
    spec.stride = int_or(o, "stride", 1);
    spec.same = !o.Has("padding") || o.Get("padding").ToString().Utf8Value() != "valid";
    spec.residual = o.Get("residual").ToBoolean().Value();
    spec.relu = o.Get("relu").ToBoolean().Value();
    spec.training = !o.Has("training") || o.Get("training").ToBoolean().Value();
    spec.input_grad = o.Get("inputGrad").ToBoolean().Value();
    spec.negative_gamma = o.Get("negativeGamma").ToBoolean().Value();
    spec.input_relu = o.Get("inputRelu").ToBoolean().Value();
    spec.grad_out_masked = o.Get("gradOutMasked").ToBoolean().Value();
    spec.steps = int_or(o, "steps", 1);
    if (o.Get("model").IsObject()) spec.model = model_config_from(o.Get("model").As<Napi::Object>());
    if (o.Get("optimizer").IsString()) spec.optimizer.kind = optimizer_kind_from(text(o, "optimizer"));
    if (o.Get("learningRate").IsNumber()) spec.optimizer.learning_rate = o.Get("learningRate").As<Napi::Number>().DoubleValue();
    spec.seed = static_cast<uint64_t>(int_or(o, "seed", 0));
    spec.threads = int_or(o, "threads", 0);
    if (o.Get("isa").IsString()) spec.isa = o.Get("isa").As<Napi::String>().Utf8Value();
    const auto diffs = kernels::compare_kernels(spec);
    auto out = Napi::Array::New(env, diffs.size());
    for (size_t i = 0; i < diffs.size(); ++i) {
      auto d = Napi::Object::New(env);
      d.Set("name", diffs[i].name);
      d.Set("maxAbs", diffs[i].max_abs);
      d.Set("fusedErr", diffs[i].fused_err);
      d.Set("plainErr", diffs[i].plain_err);
      d.Set("refMax", diffs[i].ref_max);
      d.Set("numel", static_cast<double>(diffs[i].numel));
      out.Set(static_cast<uint32_t>(i), d);
    }
    return out;
  });
}

// _kernelIsas() -> { active, available: [...] }: which kernel builds this CPU can run.
Napi::Value KernelIsas(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("active", kernels::kernels().isa);
  auto available = Napi::Array::New(env);
  available.Set(0u, "generic");
  if (kernels::avx2_kernels() != nullptr) available.Set(1u, "avx2");
  out.Set("available", available);
  return out;
}

// _toNchw(float32 (N, H, W, C) data, [N, C, H, W]) -> { data: Float32Array (N, C, H, W), ms }:
// the channels_last transpose that training inputs get, timed alone (scripts/bench/layout.mjs).
Napi::Value ToNchw(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ArraySource source(info[0], shape_from(info[1]), /*channels_last=*/true);
    const auto start = std::chrono::steady_clock::now();
    const auto nchw = source.materialize(torch::kCPU, torch::kFloat32);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    auto data = Napi::Float32Array::New(env, static_cast<size_t>(nchw.numel()));
    if (nchw.numel() > 0) std::memcpy(data.Data(), nchw.data_ptr<float>(), nchw.numel() * sizeof(float));
    auto out = Napi::Object::New(env);
    out.Set("data", data);
    out.Set("ms", ms);
    return out;
  });
}

// _fmaPeak({ threads, seconds, isa }) -> { gflops, isa, threads }: scripts/bench/roofline.mjs.
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto o = info[0].As<Napi::Object>();
    const double seconds = o.Get("seconds").IsNumber() ? o.Get("seconds").As<Napi::Number>().DoubleValue() : 0.5;
    const auto peak = kernels::measure_fma_peak(int_or(o, "threads", 1), seconds,
                                                o.Get("isa").IsString() ? o.Get("isa").As<Napi::String>().Utf8Value() : "");
    auto out = Napi::Object::New(env);
    out.Set("gflops", peak.gflops);
    out.Set("isa", peak.isa);
    out.Set("threads", peak.threads);
    return out;
  });
}

// _augmentBatch(float32 (N, C, H, W), shape, augmentConfig, seed, params?, tensorOps?) -> { images, params }:
// one batch through fit's augmentation, with the given per-image draws (N x 9 float64) or
// draws from a generator seeded with `seed`; tensorOps: the device-independent path instead
// of the CPU loop (test/augment.test.js).
Napi::Value AugmentBatch(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto shape = shape_from(info[1]);
    const auto images = ArraySource(info[0], shape).materialize(torch::kCPU, torch::kFloat32);
    const auto config = augment_config_from(info[2].As<Napi::Object>());
    torch::Tensor params;
    if (info[4].IsTypedArray()) {
      params = ArraySource(info[4], {shape.at(0), kAugmentParamCount}).materialize(torch::kCPU, torch::kFloat64).clone();
    } else {
      auto gen = make_cpu_generator(static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value()));
      params = draw_augment_params(shape.at(0), shape.at(2), shape.at(3), config, gen);
    }
    const auto out = apply_augment(images, params, config, /*cpu_loop=*/!info[5].ToBoolean().Value()).contiguous();
    auto data = Napi::Float32Array::New(env, static_cast<size_t>(out.numel()));
    if (out.numel() > 0) std::memcpy(data.Data(), out.data_ptr<float>(), out.numel() * sizeof(float));
    auto drawn = Napi::Float64Array::New(env, static_cast<size_t>(params.numel()));
    if (params.numel() > 0) std::memcpy(drawn.Data(), params.data_ptr<double>(), params.numel() * sizeof(double));
    auto result = Napi::Object::New(env);
    result.Set("images", data);
    result.Set("params", drawn);
    return result;
  });
}

// _timeConv({ batch, inChannels, outChannels, height, width, kernel, stride, padding, path, reps,
//             threads, inputGrad }) -> { forwardMs, backwardMs, forwardGflop, backwardGflop }
Napi::Value TimeConv(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto o = info[0].As<Napi::Object>();
    kernels::ConvLayerSpec spec;
    spec.batch = int_or(o, "batch", 128);
    spec.in_channels = int_or(o, "inChannels", 16);
    spec.out_channels = int_or(o, "outChannels", 16);
    spec.height = int_or(o, "height", 28);
    spec.width = int_or(o, "width", 28);
    spec.kernel = int_or(o, "kernel", 3);
    spec.stride = int_or(o, "stride", 1);
    spec.same = !o.Has("padding") || o.Get("padding").ToString().Utf8Value() != "valid";
    spec.path = o.Get("path").IsString() ? o.Get("path").As<Napi::String>().Utf8Value() : "engine";
    spec.reps = int_or(o, "reps", 10);
    spec.threads = int_or(o, "threads", 0);
    spec.input_grad = !o.Has("inputGrad") || o.Get("inputGrad").ToBoolean().Value();
    const auto t = kernels::time_conv_layer(spec);
    auto out = Napi::Object::New(env);
    out.Set("forwardMs", t.forward_ms);
    out.Set("backwardMs", t.backward_ms);
    out.Set("forwardGflop", t.forward_gflop);
    out.Set("backwardGflop", t.backward_gflop);
    return out;
  });
}

// _initialWeights(modelSpec, seed) -> { name: Float32Array }: for initialiser tests.
Napi::Value InitialWeights(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto seed = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
    auto out = Napi::Object::New(env);
    for (const auto& [name, t] : initial_weights(model_config_from(info[0].As<Napi::Object>()), seed)) {
      auto arr = Napi::Float32Array::New(env, static_cast<size_t>(t.numel()));
      std::memcpy(arr.Data(), t.data_ptr<float>(), t.nbytes());
      out.Set(name, arr);
    }
    return out;
  });
}

// _earlyStoppingTrace({ mode, patience, minDelta, baseline?, startFromEpoch? }, values) -> the 0-based epoch it stops at, or -1.
Napi::Value EarlyStoppingTrace(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto es = info[0].As<Napi::Object>();
    EarlyStoppingConfig config;
    config.mode_max = mode_max_from(text(es, "mode"));
    config.patience = es.Get("patience").As<Napi::Number>().Int32Value();
    config.min_delta = es.Get("minDelta").As<Napi::Number>().DoubleValue();
    if (es.Get("baseline").IsNumber()) {
      config.has_baseline = true;
      config.baseline = es.Get("baseline").As<Napi::Number>().DoubleValue();
    }
    if (es.Get("startFromEpoch").IsNumber()) config.start_from_epoch = es.Get("startFromEpoch").As<Napi::Number>().Int32Value();
    const auto array = info[1].As<Napi::Array>();
    std::vector<double> values;
    for (uint32_t i = 0; i < array.Length(); ++i) values.push_back(array.Get(i).As<Napi::Number>().DoubleValue());
    return Napi::Number::New(env, early_stopping_stop_epoch(config, values));
  });
}

// _dataParallelProbe(spec) -> { promise, cancel }: for the distributed tests only.
Napi::Value DataParallelProbe(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return queue_job(env, new ProbeWorker(env, info[0].As<Napi::Object>())); });
}

}  // namespace

void register_internal(Napi::Env env, Napi::Object exports) {
  exports.Set("_fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("_timeConv", Napi::Function::New(env, TimeConv));
  exports.Set("_profileStep", Napi::Function::New(env, ProfileStep));
  exports.Set("_compareKernels", Napi::Function::New(env, CompareKernels));
  exports.Set("_kernelIsas", Napi::Function::New(env, KernelIsas));
  exports.Set("_toNchw", Napi::Function::New(env, ToNchw));
  exports.Set("_augmentBatch", Napi::Function::New(env, AugmentBatch));
  exports.Set("_initialWeights", Napi::Function::New(env, InitialWeights));
  exports.Set("_dataParallelProbe", Napi::Function::New(env, DataParallelProbe));
  exports.Set("_earlyStoppingTrace", Napi::Function::New(env, EarlyStoppingTrace));
  register_internal_callbacks(env, exports);
}

}  // namespace torchfit::binding
