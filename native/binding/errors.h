// Turns whatever the core threw into a code and a message, and those into a JS Error.
#pragma once

#include <napi.h>
#include <string>

namespace torchfit::binding {

struct CapturedError {
  std::string code;
  std::string message;
};

// Call inside catch (...): classifies the in-flight exception.
CapturedError capture_current_exception();

Napi::Error make_js_error(Napi::Env env, const CapturedError& error);

// Runs fn, turning any C++ exception into a thrown JS error (for synchronous methods).
template <typename Fn>
auto guarded(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw make_js_error(env, capture_current_exception());
  }
}

}  // namespace torchfit::binding
