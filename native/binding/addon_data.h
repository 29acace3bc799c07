// Per-environment state (SetInstanceData), so the addon loads in several worker threads.
#pragma once

#include <napi.h>

namespace torchfit::binding {

struct AddonData {
  Napi::FunctionReference tensor_constructor;
  Napi::FunctionReference model_constructor;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace torchfit::binding
