// Underscore-prefixed exports for tests and benchmark scripts, not the public API:
// synchronous, on the calling thread, with plain objects in and out.
#pragma once

#include <napi.h>

namespace torchfit::binding {

void register_internal(Napi::Env env, Napi::Object exports);
// The callbacks' logic on scripted series (binding/internal_callbacks.cc).
void register_internal_callbacks(Napi::Env env, Napi::Object exports);

}  // namespace torchfit::binding
