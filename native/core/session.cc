#include "core/session.h"

#include "core/checkpoint.h"
#include "core/device.h"
#include "core/distributed/communicator.h"
#include "core/errors.h"
#include "core/live_tensors.h"
#include "core/sample_weights.h"

namespace torchfit {

Session::Session(std::shared_ptr<Classifier> m, torch::Device d) : model(std::move(m)), device(d) {
  counted_ = static_cast<int64_t>(model->parameters().size() + model->buffers().size());
  add_live_tensors(counted_);
}

Session::~Session() { add_live_tensors(-counted_); }

namespace {

// The resume rules: the same device (TypeScript refuses another one before the job starts),
// the optimizer kept when its kind is unchanged (its moments and step count go on), made anew
// otherwise; the learning rate is always this call's.
void prepare_optimizer(Session& session, const OptimizerConfig& config) {
  if (!session.optimizer || session.optimizer_config.kind != config.kind) {
    session.optimizer = make_optimizer(session.model->parameters(), config);
  }
  session.optimizer_config = config;
  session.optimizer->set_learning_rate(config.learning_rate);
}

}  // namespace

TrainResult train_session(const TrainRequest& request, const TrainCallbacks& callbacks) {
  const auto& config = request.config;
  const auto& data = request.data;
  set_threads(config.threads);
  const auto device = resolve_device(config.device);
  std::shared_ptr<Session> session;
  if (request.resume) {
    check_internal(request.resume->device == device,
                   "resume: the model lives on " + request.resume->device.str() + ", training asked for " + device.str());
    session = request.resume;
  } else {
    auto model = make_classifier(request.model, config.seed);
    model->to(device);
    session = std::make_shared<Session>(model, device);
  }
  std::lock_guard<std::mutex> lock(session->mutex);
  const bool has_validation = data.val_x != nullptr;
  LiveTensorScope counted(has_validation ? 4 : 2);
  LabelledData train{data.x->materialize(device, torch::kFloat32), data.y->materialize(device, torch::kInt64)};
  if (data.w != nullptr) train.w = data.w->materialize(device, torch::kFloat32);
  LabelledData validation;
  if (has_validation) validation = {data.val_x->materialize(device, torch::kFloat32), data.val_y->materialize(device, torch::kInt64)};
  const bool split = config.validation_split_at > 0;
  if (split) std::tie(train, validation) = split_validation(train, config.validation_split_at);
  if (!config.class_weights.empty()) train.w = class_weighted(train, config.class_weights);
  prepare_optimizer(*session, config.optimizer);
  // Connected here, on the job's thread: the rendezvous waits (bounded) for the other ranks.
  std::unique_ptr<Communicator> comm;
  if (config.distributed.enabled) comm = connect(config.distributed, device, callbacks.cancel);
  TrainResult result;
  result.outcome = fit(*session->model, *session->optimizer, train, has_validation || split ? &validation : nullptr, config,
                       callbacks, comm.get());
  if (comm) comm->leave();
  result.session = std::move(session);
  return result;
}

std::shared_ptr<Session> restore_session(const RestoreRequest& request) {
  auto restored = restore_model(request);
  auto session = std::make_shared<Session>(restored.model, request.device);
  session->optimizer = std::move(restored.optimizer);
  if (session->optimizer) session->optimizer_config = restored.optimizer_config;
  return session;
}

EvalResult evaluate_session(Session& session, const ArrayInput& x, const ArrayInput& y, int64_t batch_size,
                            const std::atomic<bool>* cancel) {
  std::lock_guard<std::mutex> lock(session.mutex);
  LiveTensorScope counted(2);
  LabelledData data{x.materialize(session.device, torch::kFloat32), y.materialize(session.device, torch::kInt64)};
  return evaluate(*session.model, data, batch_size, cancel);
}

torch::Tensor predict_session(Session& session, const ArrayInput& x, int64_t batch_size, const std::atomic<bool>* cancel) {
  std::lock_guard<std::mutex> lock(session.mutex);
  LiveTensorScope counted(1);
  return predict(*session.model, x.materialize(session.device, torch::kFloat32), batch_size, cancel);
}

void save_session(Session& session, const std::string& path, const std::string& config_json, bool with_optimizer) {
  std::lock_guard<std::mutex> lock(session.mutex);
  const Optimizer* optimizer = with_optimizer ? session.optimizer.get() : nullptr;
  write_checkpoint(path, make_checkpoint(*session.model, config_json, optimizer, session.optimizer_config));
}

}  // namespace torchfit
