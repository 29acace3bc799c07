// Reading the fields of a plain JS object that TypeScript has already validated and filled:
// one home for the binding's converters and its test-only exports.
#pragma once

#include <napi.h>
#include <string>

namespace torchfit::binding {

inline double num(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().DoubleValue(); }
inline int integer(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Int32Value(); }
inline bool flag(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Boolean>().Value(); }
inline std::string text(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::String>().Utf8Value(); }

// Test-only exports take optional settings: the number, or the fallback when absent.
inline double number_or(const Napi::Object& o, const char* key, double fallback) {
  const auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
inline int int_or(const Napi::Object& o, const char* key, int fallback) {
  const auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

}  // namespace torchfit::binding
