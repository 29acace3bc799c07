#include "binding/train_worker.h"

#include "binding/convert_callbacks.h"
#include "binding/model_wrap.h"

namespace torchfit::binding {

void CallbackGate::wait(uint64_t ticket, const std::atomic<bool>* cancel) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Woken by handled(); the timeout only bounds how late a cancel (abort, environment
  // teardown) is noticed when JavaScript never answers.
  while (handled_ < ticket && !(cancel != nullptr && cancel->load())) cv_.wait_for(lock, std::chrono::milliseconds(20));
}

void CallbackGate::handled(uint64_t ticket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handled_ = std::max(handled_, ticket);
  }
  cv_.notify_all();
}

Napi::Object TrainWorker::job(Napi::Env env) {
  auto out = settler_.job(env);
  auto flag = stop_;
  out.Set("stop", Napi::Function::New(env, [flag](const Napi::CallbackInfo& info) {
            flag->store(true);
            return info.Env().Undefined();
          }));
  return out;
}

TrainWorker::TrainWorker(Napi::Env env, const Napi::Object& spec, Napi::Function on_epoch, Napi::Function on_batch)
    : Napi::AsyncProgressQueueWorker<TrainProgress>(env), settler_(env) {
  request_.model = model_config_from(spec.Get("model").As<Napi::Object>());
  request_.config = train_config_from(spec.Get("config").As<Napi::Object>());
  const auto train = spec.Get("train").As<Napi::Object>();
  const auto shape = shape_from(train.Get("shape"));
  train_x_ = ArraySource(train.Get("x"), shape, train.Get("channelsLast").ToBoolean().Value());
  train_y_ = ArraySource(train.Get("y"), {shape.at(0)});
  request_.data.x = &train_x_;
  request_.data.y = &train_y_;
  if (train.Get("w").IsTypedArray()) {
    train_w_ = ArraySource(train.Get("w"), {shape.at(0)});
    request_.data.w = &train_w_;
  }
  const auto validation = spec.Get("validation");
  if (validation.IsObject()) {
    const auto v = validation.As<Napi::Object>();
    const auto vshape = shape_from(v.Get("shape"));
    val_x_ = ArraySource(v.Get("x"), vshape, v.Get("channelsLast").ToBoolean().Value());
    val_y_ = ArraySource(v.Get("y"), {vshape.at(0)});
    request_.data.val_x = &val_x_;
    request_.data.val_y = &val_y_;
  }
  const auto resume = spec.Get("resume");
  if (resume.IsObject()) request_.resume = ModelWrap::session_of(resume);
  on_epoch_ = Napi::Persistent(on_epoch);
  on_batch_ = Napi::Persistent(on_batch);
  request_.config.checkpoint_metadata = checkpoint_metadata_from(spec.Get("checkpointMetadata"));
  const auto await_callbacks = spec.Get("awaitCallbacks");
  if (await_callbacks.IsObject()) {
    await_epoch_ = await_callbacks.As<Napi::Object>().Get("epoch").ToBoolean().Value();
    await_batch_ = await_callbacks.As<Napi::Object>().Get("batch").ToBoolean().Value();
  }
}

void TrainWorker::Execute(const ExecutionProgress& progress) {
  try {
    TrainCallbacks callbacks;
    callbacks.cancel = settler_.cancel();
    callbacks.stop = stop_.get();
    callbacks.batch_stops = await_batch_;
    callbacks.on_epoch = [&](const EpochRecord& r) {
      TrainProgress p;
      p.is_epoch = true;
      p.epoch = r;
      p.ticket = await_epoch_ ? gate_.next_ticket() : 0;
      progress.Send(&p, 1);
      if (p.ticket > 0) gate_.wait(p.ticket, settler_.cancel());
    };
    callbacks.on_batch = [&](const BatchRecord& r) {
      TrainProgress p;
      p.is_epoch = false;
      p.batch = r;
      p.ticket = await_batch_ ? gate_.next_ticket() : 0;
      progress.Send(&p, 1);
      if (p.ticket > 0) gate_.wait(p.ticket, settler_.cancel());
    };
    result_ = train_session(request_, callbacks);
  } catch (...) {
    settler_.capture();
    result_ = {};
    SetError(settler_.message());
  }
}

void TrainWorker::OnProgress(const TrainProgress* records, size_t count) {
  if (settler_.env_closing()) {
    gate_.handled(UINT64_MAX);
    return;
  }
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  for (size_t i = 0; i < count; ++i) {
    const auto& r = records[i];
    try {
      if (r.is_epoch) {
        on_epoch_.Call({to_js(env, r.epoch)});
      } else {
        on_batch_.Call({to_js(env, r.batch)});
      }
    } catch (const Napi::Error&) {
      // TypeScript wraps user callbacks and reports their errors; nothing should reach here.
    }
    if (r.ticket > 0) gate_.handled(r.ticket);
  }
}

void TrainWorker::OnOK() {
  settler_.resolve(Env(), [&]() -> Napi::Value {
    Napi::Env env = Env();
    auto out = Napi::Object::New(env);
    const auto& outcome = result_.outcome;
    out.Set("model", ModelWrap::wrap(env, result_.session));
    auto history = Napi::Array::New(env, outcome.history.size());
    for (size_t i = 0; i < outcome.history.size(); ++i) history.Set(i, to_js(env, outcome.history[i]));
    out.Set("history", history);
    out.Set("stoppedEpoch", outcome.stopped_epoch);
    const auto reason = outcome.stop_reason;
    out.Set("stopReason", reason == StopReason::EarlyStopping ? "earlyStopping"
                          : reason == StopReason::Requested   ? "stop"
                          : reason == StopReason::TimeLimit   ? "timeLimit"
                                                              : "");
    out.Set("bestEpoch", outcome.best_epoch);
    out.Set("restoredBestWeights", outcome.restored_best_weights);
    out.Set("device", result_.session->device.str());
    result_.session.reset();
    return out;
  });
}

void TrainWorker::OnError(const Napi::Error&) { settler_.reject(Env()); }

}  // namespace torchfit::binding
