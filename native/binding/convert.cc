#include "binding/convert.h"

#include "binding/convert_callbacks.h"
#include "binding/enums.h"
#include "binding/js_fields.h"
#include "binding/tensor_wrap.h"
#include "core/errors.h"
#include "core/layout.h"

namespace torchfit::binding {
namespace {

std::vector<int64_t> ints(const Napi::Object& o, const char* key) {
  std::vector<int64_t> out;
  const auto arr = o.Get(key).As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

Activation activation_of(const Napi::Object& o) { return activation_from(text(o, "activation")); }

// One layer as models/native-spec.ts hands it over (already resolved and checked).
LayerConfig layer_config_from(const Napi::Object& o) {
  LayerConfig c;
  c.type = layer_type_from(text(o, "type"));
  c.input_shape = ints(o, "inputShape");
  c.output_shape = ints(o, "outputShape");
  auto pair = [&](const char* key, int64_t& h, int64_t& w) {
    const auto v = ints(o, key);
    h = v.at(0);
    w = v.at(1);
  };
  switch (c.type) {
    case LayerType::Conv2d:
    case LayerType::Dense:
      c.units = integer(o, c.type == LayerType::Conv2d ? "filters" : "units");
      if (c.type == LayerType::Conv2d) {
        pair("kernelSize", c.kernel_h, c.kernel_w);
        pair("strides", c.stride_h, c.stride_w);
        c.padding = padding_from(text(o, "padding"));
      }
      c.activation = activation_of(o);
      c.use_bias = flag(o, "useBias");
      c.initializer = initializer_from(text(o, "kernelInitializer"));
      c.l2 = num(o, "l2");
      break;
    case LayerType::BatchNorm:
      c.momentum = num(o, "torchMomentum");
      c.epsilon = num(o, "epsilon");
      break;
    case LayerType::Activation:
      c.activation = activation_of(o);
      break;
    case LayerType::MaxPool:
    case LayerType::AvgPool:
      pair("poolSize", c.kernel_h, c.kernel_w);
      pair("strides", c.stride_h, c.stride_w);
      c.padding = padding_from(text(o, "padding"));
      break;
    case LayerType::Dropout:
      c.rate = num(o, "rate");
      break;
    case LayerType::Residual: {
      c.activation = activation_of(o);
      for (const char* key : {"layers", "shortcut"}) {
        const auto list = o.Get(key).As<Napi::Array>();
        auto& into = std::string(key) == "layers" ? c.body : c.shortcut;
        for (uint32_t i = 0; i < list.Length(); ++i) into.push_back(layer_config_from(list.Get(i).As<Napi::Object>()));
      }
      break;
    }
    default:
      break;
  }
  return c;
}

}  // namespace

ModelConfig model_config_from(const Napi::Object& spec) {
  ModelConfig c;
  c.kind = model_kind_from(text(spec, "kind"));
  if (c.kind == ModelKind::Layers) {
    const auto layers = spec.Get("layers").As<Napi::Array>();
    for (uint32_t i = 0; i < layers.Length(); ++i) c.layers.push_back(layer_config_from(layers.Get(i).As<Napi::Object>()));
    c.layers_json = text(spec, "layersJson");
  }
  c.depth = integer(spec, "depth");
  c.num_classes = integer(spec, "numClasses");
  c.channels = integer(spec, "channels");
  c.height = integer(spec, "height");
  c.width = integer(spec, "width");
  // Optional: the presets' BatchNorm momentum (PyTorch's terms); absent: Keras's default.
  if (spec.Get("bnMomentum").IsNumber()) c.bn_momentum = num(spec, "bnMomentum");
  return c;
}

TrainConfig train_config_from(const Napi::Object& spec) {
  TrainConfig c;
  c.epochs = integer(spec, "epochs");
  c.batch_size = integer(spec, "batchSize");
  c.eval_batch_size = integer(spec, "evalBatchSize");
  const auto opt = spec.Get("optimizer").As<Napi::Object>();
  c.optimizer.kind = optimizer_kind_from(text(opt, "name"));
  c.optimizer.learning_rate = num(opt, "learningRate");
  c.optimizer.momentum = num(opt, "momentum");
  c.optimizer.nesterov = flag(opt, "nesterov");
  c.optimizer.beta1 = num(opt, "beta1");
  c.optimizer.beta2 = num(opt, "beta2");
  c.optimizer.epsilon = num(opt, "epsilon");
  const auto rates = spec.Get("epochLearningRates").As<Napi::Array>();
  for (uint32_t i = 0; i < rates.Length(); ++i) c.epoch_learning_rates.push_back(rates.Get(i).As<Napi::Number>().DoubleValue());
  c.seed = static_cast<uint64_t>(num(spec, "seed"));
  c.shuffle = flag(spec, "shuffle");
  c.device = text(spec, "device");
  c.threads = integer(spec, "threads");
  c.fused_kernels = text(spec, "kernels") != "plain";
  c.batch_progress_interval_ms = num(spec, "batchProgressIntervalMs");
  const auto distributed = spec.Get("distributed");
  if (distributed.IsObject()) c.distributed = distributed_config_from(distributed.As<Napi::Object>());
  const auto augment = spec.Get("augment");
  if (augment.IsObject()) c.augment = augment_config_from(augment.As<Napi::Object>());
  // Training control: callbacks, resuming, time limit (binding/convert_callbacks.cc).
  c.initial_epoch = integer(spec, "initialEpoch");
  c.callbacks = callbacks_from(spec.Get("callbacks"));
  c.time_limit_ms = num(spec, "timeLimitMs");
  c.validation_split_at = static_cast<int64_t>(num(spec, "validationSplitAt"));
  const auto class_weights = spec.Get("classWeights").As<Napi::Array>();
  for (uint32_t i = 0; i < class_weights.Length(); ++i) c.class_weights.push_back(class_weights.Get(i).As<Napi::Number>().DoubleValue());
  return c;
}

AugmentConfig augment_config_from(const Napi::Object& spec) {
  AugmentConfig c;
  c.enabled = flag(spec, "enabled");
  c.horizontal_flip = flag(spec, "horizontalFlip");
  c.vertical_flip = flag(spec, "verticalFlip");
  c.width_shift = num(spec, "widthShift");
  c.width_shift_integer = flag(spec, "widthShiftInteger");
  c.height_shift = num(spec, "heightShift");
  c.height_shift_integer = flag(spec, "heightShiftInteger");
  c.rotation = num(spec, "rotation");
  c.zoom_low = num(spec, "zoomLow");
  c.zoom_high = num(spec, "zoomHigh");
  c.fill_mode = fill_mode_from(text(spec, "fillMode"));
  c.cval = num(spec, "cval");
  c.crop_padding = integer(spec, "cropPadding");
  return c;
}

DistributedConfig distributed_config_from(const Napi::Object& spec) {
  DistributedConfig c;
  c.enabled = true;
  c.rank = integer(spec, "rank");
  c.world_size = integer(spec, "worldSize");
  c.master_addr = text(spec, "masterAddr");
  c.master_port = integer(spec, "masterPort");
  c.timeout_ms = static_cast<int64_t>(num(spec, "timeoutMs"));
  c.rendezvous_timeout_ms = static_cast<int64_t>(num(spec, "rendezvousTimeoutMs"));
  c.backend = backend_from(text(spec, "backend"));
  c.interface = text(spec, "interface");
  c.bucket_bytes = static_cast<int64_t>(num(spec, "bucketBytes"));
  return c;
}

torch::ScalarType scalar_type_of(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return torch::kFloat32;
    case napi_float64_array: return torch::kFloat64;
    case napi_int8_array: return torch::kInt8;
    case napi_uint8_array: return torch::kUInt8;
    case napi_uint8_clamped_array: return torch::kUInt8;
    case napi_int16_array: return torch::kInt16;
    case napi_int32_array: return torch::kInt32;
    case napi_bigint64_array: return torch::kInt64;
    default: internal_error("a typed array of type " + std::to_string(static_cast<int>(type)) + " for a tensor");
  }
}

std::vector<int64_t> shape_from(const Napi::Value& value) {
  std::vector<int64_t> shape;
  const auto arr = value.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) shape.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return shape;
}

ArraySource::ArraySource(const Napi::Value& value, std::vector<int64_t> shape, bool channels_last)
    : shape_(std::move(shape)), channels_last_(channels_last && shape_.size() == 4) {
  if (value.IsTypedArray()) {
    const auto ta = value.As<Napi::TypedArray>();
    dtype_ = scalar_type_of(ta.TypedArrayType());
    data_ = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    keep_alive_ = Napi::Persistent(value);
    return;
  }
  tensor_ = TensorWrap::tensor_of(value);
}

torch::Tensor ArraySource::materialize(torch::Device device, torch::ScalarType dtype) const {
  if (channels_last_) {
    const std::vector<int64_t> nhwc{shape_[0], shape_[2], shape_[3], shape_[1]};
    const auto source = tensor_.defined() ? tensor_.reshape(nhwc)
                                          : torch::from_blob(const_cast<void*>(data_), nhwc, torch::TensorOptions().dtype(dtype_));
    // Moved first, then transposed where it lives (on a GPU the transpose is the cheap part).
    return channels_last_to_first(source.to(device, dtype));
  }
  if (tensor_.defined()) {
    return tensor_.reshape(shape_).to(device, dtype, /*non_blocking=*/false, /*copy=*/false).contiguous();
  }
  auto view = torch::from_blob(const_cast<void*>(data_), shape_, torch::TensorOptions().dtype(dtype_));
  // Already what the job needs (float32 images on the CPU): used in place, no copy (for the
  // full training set that is 170 MB less at the peak). keep_alive_ holds the JS array until
  // this source dies, after the job; the caller must not keep the tensor beyond that.
  if (device.is_cpu() && dtype == dtype_) return view;
  return view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}

Napi::Object to_js(Napi::Env env, const EpochRecord& r) {
  auto o = Napi::Object::New(env);
  o.Set("epoch", r.epoch);
  o.Set("epochs", r.epochs);
  o.Set("loss", r.loss);
  o.Set("accuracy", r.accuracy);
  o.Set("valLoss", r.val_loss);
  o.Set("valAccuracy", r.val_accuracy);
  o.Set("seconds", r.seconds);
  o.Set("msPerStep", r.ms_per_step);
  o.Set("steps", static_cast<double>(r.steps));
  o.Set("learningRate", r.learning_rate);
  return o;
}

Napi::Object to_js(Napi::Env env, const BatchRecord& r) {
  auto o = Napi::Object::New(env);
  o.Set("epoch", r.epoch);
  o.Set("step", static_cast<double>(r.step));
  o.Set("steps", static_cast<double>(r.steps));
  o.Set("loss", r.loss);
  o.Set("accuracy", r.accuracy);
  o.Set("elapsedSeconds", r.elapsed_seconds);
  return o;
}

Napi::Array to_js(Napi::Env env, const std::vector<LayerInfo>& layers) {
  auto out = Napi::Array::New(env, layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    auto o = Napi::Object::New(env);
    o.Set("name", l.name);
    o.Set("type", l.type);
    auto shape = Napi::Array::New(env, l.output_shape.size());
    for (size_t j = 0; j < l.output_shape.size(); ++j) shape.Set(j, static_cast<double>(l.output_shape[j]));
    o.Set("outputShape", shape);
    o.Set("params", static_cast<double>(l.params));
    o.Set("trainableParams", static_cast<double>(l.trainable_params));
    auto inbound = Napi::Array::New(env, l.inbound.size());
    for (size_t j = 0; j < l.inbound.size(); ++j) inbound.Set(j, l.inbound[j]);
    o.Set("inbound", inbound);
    o.Set("config", l.config);
    out.Set(i, o);
  }
  return out;
}

}  // namespace torchfit::binding
