#include "binding/model_workers.h"

#include "binding/model_wrap.h"
#include "core/checkpoint.h"
#include "core/device.h"
#include "core/errors.h"
#include "core/live_tensors.h"

namespace torchfit::binding {

EvaluateWorker::EvaluateWorker(Napi::Env env, std::shared_ptr<ModelState> state, ArraySource x, ArraySource y,
                               int64_t batch_size)
    : PromiseWorker(env), state_(std::move(state)), x_(std::move(x)), y_(std::move(y)), batch_size_(batch_size) {}

void EvaluateWorker::Run() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  LiveTensorScope counted(2);
  LabelledData data{x_.materialize(state_->device, torch::kFloat32), y_.materialize(state_->device, torch::kInt64)};
  result_ = evaluate(*state_->model, data, batch_size_, cancel());
}

Napi::Value EvaluateWorker::Result(Napi::Env env) {
  auto out = Napi::Object::New(env);
  out.Set("loss", result_.loss);
  out.Set("accuracy", result_.accuracy);
  out.Set("samples", static_cast<double>(result_.samples));
  return out;
}

PredictWorker::PredictWorker(Napi::Env env, std::shared_ptr<ModelState> state, ArraySource x, int64_t batch_size)
    : PromiseWorker(env), state_(std::move(state)), x_(std::move(x)), batch_size_(batch_size) {}

void PredictWorker::Run() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  LiveTensorScope counted(1);
  probabilities_ = predict(*state_->model, x_.materialize(state_->device, torch::kFloat32), batch_size_, cancel());
}

Napi::Value PredictWorker::Result(Napi::Env env) {
  const size_t n = static_cast<size_t>(probabilities_.numel());
  auto out = Napi::Float32Array::New(env, n);
  if (n > 0) std::memcpy(out.Data(), probabilities_.data_ptr<float>(), n * sizeof(float));
  probabilities_ = torch::Tensor();
  return out;
}

SaveWorker::SaveWorker(Napi::Env env, std::shared_ptr<ModelState> state, std::string path, std::string config_json,
                       bool with_optimizer)
    : PromiseWorker(env),
      state_(std::move(state)),
      path_(std::move(path)),
      config_json_(std::move(config_json)),
      with_optimizer_(with_optimizer) {}

void SaveWorker::Run() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  const Optimizer* optimizer = with_optimizer_ ? state_->optimizer.get() : nullptr;
  write_checkpoint(path_, make_checkpoint(*state_->model, config_json_, optimizer, state_->optimizer_config));
}

Napi::Value SaveWorker::Result(Napi::Env env) { return Napi::String::New(env, path_); }

LoadWorker::LoadWorker(Napi::Env env, std::string path, std::vector<char> bytes, std::string device,
                       std::optional<ModelConfig> layers_spec)
    : PromiseWorker(env),
      path_(std::move(path)),
      bytes_(std::move(bytes)),
      device_(std::move(device)),
      layers_spec_(std::move(layers_spec)) {}

void LoadWorker::Run() {
  const auto device = resolve_device(device_);
  auto checkpoint = read_checkpoint(bytes_, path_);
  bytes_ = {};
  if (checkpoint.model.kind == ModelKind::Layers) {
    // The file holds the description as text; TypeScript resolved that same text into layers_spec_.
    if (!layers_spec_ || layers_spec_->layers_json != checkpoint.model.layers_json) {
      throw Error("ERR_CHECKPOINT", path_ + ": the layers model's description was not resolved before loading");
    }
    checkpoint.model = *layers_spec_;
  }
  auto model = make_classifier(checkpoint.model, 0);
  load_state_dict(*model, checkpoint.state_dict, path_);
  model->to(device);
  state_ = std::make_shared<ModelState>(model, device);
  if (checkpoint.optimizer) {
    const auto& oc = checkpoint.optimizer->config;
    auto optimizer = make_optimizer(model->parameters(), oc);
    auto slots = checkpoint.optimizer->slots;
    for (auto& s : slots) s = s.to(device);
    optimizer->load_state(slots, checkpoint.optimizer->iterations);
    state_->optimizer = std::move(optimizer);
    state_->optimizer_config = oc;
  }
  config_json_ = checkpoint.config_json;
}

Napi::Value LoadWorker::Result(Napi::Env env) {
  auto out = Napi::Object::New(env);
  out.Set("model", ModelWrap::wrap(env, state_));
  out.Set("configJson", config_json_);
  state_.reset();
  return out;
}

FromStateDictWorker::FromStateDictWorker(Napi::Env env, ModelConfig config, std::vector<NamedArray> entries,
                                         std::string device, std::string label)
    : PromiseWorker(env),
      config_(config),
      entries_(std::move(entries)),
      device_(std::move(device)),
      label_(std::move(label)) {}

void FromStateDictWorker::Run() {
  const auto device = resolve_device(device_);
  auto model = make_classifier(config_, 0);
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& e : entries_) state.emplace_back(e.name, e.data.materialize(torch::kCPU, e.dtype));
  load_state_dict(*model, state, label_);  // checks every name and shape before copying
  model->to(device);
  state_ = std::make_shared<ModelState>(model, device);
}

Napi::Value FromStateDictWorker::Result(Napi::Env env) {
  auto out = ModelWrap::wrap(env, state_);
  state_.reset();
  return out;
}

}  // namespace torchfit::binding
