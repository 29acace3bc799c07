#include "binding/errors.h"

#include <c10/util/Exception.h>
#include <new>

#include "core/errors.h"

namespace torchfit::binding {

namespace {
bool mentions_oom(const std::string& text) {
  // CUDA says "out of memory"; libtorch's CPU allocator "can't allocate memory" (1.13) or "not enough memory".
  for (const char* phrase : {"out of memory", "Out of memory", "not enough memory", "can't allocate memory"}) {
    if (text.find(phrase) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

CapturedError capture_current_exception() {
  try {
    throw;
  } catch (const torchfit::Error& e) {
    return {e.code(), e.what()};
  } catch (const c10::OutOfMemoryError& e) {
    return {"ERR_OUT_OF_MEMORY", std::string("out of memory: ") + e.what_without_backtrace()};
  } catch (const c10::Error& e) {
    const std::string text = e.what_without_backtrace();
    return {mentions_oom(text) ? "ERR_OUT_OF_MEMORY" : "ERR_TORCH", text};
  } catch (const std::bad_alloc&) {
    return {"ERR_OUT_OF_MEMORY", "out of memory (std::bad_alloc)"};
  } catch (const std::exception& e) {
    return {"ERR_NATIVE", e.what()};
  } catch (...) {
    return {"ERR_NATIVE", "unknown native exception"};
  }
}

Napi::Error make_js_error(Napi::Env env, const CapturedError& error) {
  auto js = Napi::Error::New(env, error.message);
  js.Set("code", Napi::String::New(env, error.code));
  return js;
}

}  // namespace torchfit::binding
