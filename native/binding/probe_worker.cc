#include "binding/probe_worker.h"

#include <cstring>

namespace torchfit::binding {
namespace {

Napi::Float32Array float_array(Napi::Env env, const std::vector<float>& values) {
  auto out = Napi::Float32Array::New(env, values.size());
  if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(float));
  return out;
}

}  // namespace

ProbeWorker::ProbeWorker(Napi::Env env, const Napi::Object& spec) : PromiseWorker(env) {
  const auto shape = shape_from(spec.Get("shape"));
  x_ = ArraySource(spec.Get("x"), shape);
  y_ = ArraySource(spec.Get("y"), {shape.at(0)});
  num_classes_ = spec.Get("numClasses").As<Napi::Number>().Int32Value();
  seed_ = static_cast<uint64_t>(spec.Get("seed").As<Napi::Number>().Int64Value());
  const auto distributed = spec.Get("distributed");
  if (distributed.IsObject()) distributed_ = distributed_config_from(distributed.As<Napi::Object>());
}

void ProbeWorker::Run() { result_ = run_probe(x_, y_, num_classes_, seed_, distributed_, cancel()); }

Napi::Value ProbeWorker::Result(Napi::Env env) {
  auto out = Napi::Object::New(env);
  out.Set("parameters", float_array(env, result_.parameters));
  out.Set("localGradients", float_array(env, result_.local_gradients));
  out.Set("gradients", float_array(env, result_.gradients));
  out.Set("loss", result_.loss);
  return out;
}

}  // namespace torchfit::binding
