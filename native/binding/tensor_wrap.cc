#include "binding/tensor_wrap.h"

#include "binding/addon_data.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "core/device.h"
#include "core/errors.h"

#include <cstring>

namespace torchfit::binding {
namespace {

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt8: return "int8";
    case torch::kUInt8: return "uint8";
    case torch::kInt16: return "int16";
    case torch::kInt32: return "int32";
    case torch::kInt64: return "int64";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

torch::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  if (name == "int8") return torch::kInt8;
  if (name == "uint8") return torch::kUInt8;
  if (name == "int16") return torch::kInt16;
  if (name == "int32") return torch::kInt32;
  if (name == "int64") return torch::kInt64;
  if (name == "bool") return torch::kBool;
  internal_error("unknown dtype '" + name + "'");
}

}  // namespace

void TensorWrap::Init(Napi::Env env, Napi::Object exports) {
  auto ctor = DefineClass(env, "NativeTensor",
                          {StaticMethod("fromTypedArray", &TensorWrap::FromTypedArray),
                           InstanceAccessor("shape", &TensorWrap::Shape, nullptr),
                           InstanceAccessor("dtype", &TensorWrap::Dtype, nullptr),
                           InstanceAccessor("device", &TensorWrap::Device, nullptr),
                           InstanceAccessor("disposed", &TensorWrap::Disposed, nullptr),
                           InstanceMethod("toTypedArray", &TensorWrap::ToTypedArray),
                           InstanceMethod("dispose", &TensorWrap::Dispose)});
  addon_data(env).tensor_constructor = Napi::Persistent(ctor);
  exports.Set("NativeTensor", ctor);
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  // Only constructed from C++ (wrap), which passes the tensor through an External.
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeTensor is created with Tensor.from()");
  }
  tensor_ = *info[0].As<Napi::External<torch::Tensor>>().Data();
  add_live_tensors(1);
  if (tensor_.device().is_cpu()) {
    external_bytes_ = static_cast<int64_t>(tensor_.nbytes());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), external_bytes_);
  }
}

TensorWrap::~TensorWrap() {
  if (tensor_.defined()) add_live_tensors(-1);
  // External memory is not adjusted here: the env may be shutting down.
}

void TensorWrap::release(Napi::Env env) {
  if (!tensor_.defined()) return;
  tensor_ = torch::Tensor();
  add_live_tensors(-1);
  if (external_bytes_ != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
    external_bytes_ = 0;
  }
}

Napi::Object TensorWrap::wrap(Napi::Env env, torch::Tensor tensor) {
  auto external = Napi::External<torch::Tensor>::New(env, &tensor);
  return addon_data(env).tensor_constructor.New({external});
}

torch::Tensor TensorWrap::tensor_of(const Napi::Value& value) {
  auto env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(addon_data(env).tensor_constructor.Value())) {
    throw Napi::TypeError::New(env, "expected a Tensor");
  }
  return Unwrap(value.As<Napi::Object>())->live(env);
}

const torch::Tensor& TensorWrap::live(Napi::Env env) const {
  if (!tensor_.defined()) {
    auto error = Napi::Error::New(env, "the Tensor was disposed");
    error.Set("code", Napi::String::New(env, "ERR_DISPOSED"));
    throw error;
  }
  return tensor_;
}

// fromTypedArray(typedArray, shape, dtype, device): copies the data into a new tensor.
Napi::Value TensorWrap::FromTypedArray(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto ta = info[0].As<Napi::TypedArray>();
    const auto shape = shape_from(info[1]);
    const auto dtype = dtype_from_name(info[2].As<Napi::String>().Utf8Value());
    const auto device = resolve_device(info[3].As<Napi::String>().Utf8Value());
    const void* data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    auto view = torch::from_blob(const_cast<void*>(data), shape, torch::TensorOptions().dtype(scalar_type_of(ta.TypedArrayType())));
    return wrap(env, view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true));
  });
}

Napi::Value TensorWrap::Shape(const Napi::CallbackInfo& info) {
  const auto& t = live(info.Env());
  auto arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) arr.Set(static_cast<uint32_t>(i), static_cast<double>(t.size(i)));
  return arr;
}

Napi::Value TensorWrap::Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtype_name(live(info.Env()).scalar_type()));
}

Napi::Value TensorWrap::Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), live(info.Env()).device().str());
}

Napi::Value TensorWrap::Disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !tensor_.defined());
}

// Copies to a new JS typed array of the tensor's dtype (bool as uint8).
Napi::Value TensorWrap::ToTypedArray(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto t = live(env).detach().to(torch::kCPU).contiguous();
    if (t.scalar_type() == torch::kBool) t = t.to(torch::kUInt8);
    const size_t n = static_cast<size_t>(t.numel());
    auto buffer = Napi::ArrayBuffer::New(env, t.nbytes());
    if (t.nbytes() > 0) std::memcpy(buffer.Data(), t.data_ptr(), t.nbytes());
    switch (t.scalar_type()) {
      case torch::kFloat32: return Napi::Float32Array::New(env, n, buffer, 0);
      case torch::kFloat64: return Napi::Float64Array::New(env, n, buffer, 0);
      case torch::kInt8: return Napi::Int8Array::New(env, n, buffer, 0);
      case torch::kUInt8: return Napi::Uint8Array::New(env, n, buffer, 0);
      case torch::kInt16: return Napi::Int16Array::New(env, n, buffer, 0);
      case torch::kInt32: return Napi::Int32Array::New(env, n, buffer, 0);
      case torch::kInt64: return Napi::BigInt64Array::New(env, n, buffer, 0);
      default: throw Error("ERR_TORCH", "cannot convert dtype " + dtype_name(t.scalar_type()));
    }
  });
}

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  release(info.Env());
  return info.Env().Undefined();
}

}  // namespace torchfit::binding
