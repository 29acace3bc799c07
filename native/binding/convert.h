// JS values to the core's plain structs and back. TypeScript has validated
// everything; these only read fields.
#pragma once

#include <napi.h>
#include <torch/types.h>
#include <vector>

#include "core/array_input.h"
#include "core/config.h"
#include "core/summary.h"
#include "core/trainer.h"

namespace torchfit::binding {

ModelConfig model_config_from(const Napi::Object& spec);
TrainConfig train_config_from(const Napi::Object& spec);
// { rank, worldSize, masterAddr, masterPort, timeoutMs, rendezvousTimeoutMs, backend, interface, bucketBytes }
DistributedConfig distributed_config_from(const Napi::Object& spec);
// src/torch/augment.ts NativeAugmentConfig
AugmentConfig augment_config_from(const Napi::Object& spec);

// Array data handed in from JS: a typed array kept alive by a reference (read on the
// worker thread: viewed in place when it already has the job's dtype and device, else
// copied into a tensor there), or a tensor already owned by the addon.
class ArraySource : public ArrayInput {
 public:
  ArraySource() = default;
  // value: a TypedArray or a Tensor handle; shape: the logical shape to give it. channels_last:
  // shape is (N, C, H, W) but the data holds (N, H, W, C), transposed by materialize().
  ArraySource(const Napi::Value& value, std::vector<int64_t> shape, bool channels_last = false);
  // Worker thread: a tensor of `dtype` on `device` with the requested shape. It may view the
  // JS memory, so it must not outlive this ArraySource.
  torch::Tensor materialize(torch::Device device, torch::ScalarType dtype) const override;
  // The element type of the JS array (or of the tensor handle).
  torch::ScalarType dtype() const { return tensor_.defined() ? tensor_.scalar_type() : dtype_; }

 private:
  Napi::Reference<Napi::Value> keep_alive_;
  const void* data_ = nullptr;
  torch::ScalarType dtype_ = torch::kFloat32;
  std::vector<int64_t> shape_;
  bool channels_last_ = false;
  torch::Tensor tensor_;
};

std::vector<int64_t> shape_from(const Napi::Value& value);
torch::ScalarType scalar_type_of(napi_typedarray_type type);

Napi::Object to_js(Napi::Env env, const EpochRecord& r);
Napi::Object to_js(Napi::Env env, const BatchRecord& r);
Napi::Array to_js(Napi::Env env, const std::vector<LayerInfo>& layers);

}  // namespace torchfit::binding
