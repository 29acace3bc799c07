// _dataParallelProbe: one all-reduced step of a BatchNorm-free network, for the
// distributed tests only (core/tools/probe.h says why).
#pragma once

#include "binding/convert.h"
#include "binding/promise_worker.h"
#include "core/tools/probe.h"

namespace torchfit::binding {

class ProbeWorker : public PromiseWorker {
 public:
  // spec: { x, shape, y, numClasses, seed, distributed?: { ...as trainModel's... } }
  ProbeWorker(Napi::Env env, const Napi::Object& spec);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  ArraySource x_, y_;
  int num_classes_ = 2;
  uint64_t seed_ = 0;
  DistributedConfig distributed_;
  ProbeResult result_;
};

}  // namespace torchfit::binding
