// Workers that settle a Promise, carry the core's error code into the rejection
// and expose a cancel() that raises a flag the core checks every batch.
#pragma once

#include <atomic>
#include <memory>
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/errors.h"

namespace torchfit::binding {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

// The promise side shared by every worker kind.
class Settler {
 public:
  explicit Settler(Napi::Env env)
      : deferred_(Napi::Promise::Deferred::New(env)),
        cancel_(std::make_shared<std::atomic<bool>>(false)),
        closing_(addon_data(env).jobs.closing()) {
    addon_data(env).jobs.add(cancel_);
  }

  // True once the environment that started the job is being torn down: JavaScript is gone.
  bool env_closing() const { return closing_->load(); }

  // { promise, cancel() }
  Napi::Object job(Napi::Env env) {
    auto out = Napi::Object::New(env);
    out.Set("promise", deferred_.Promise());
    CancelFlag flag = cancel_;
    out.Set("cancel", Napi::Function::New(env, [flag](const Napi::CallbackInfo& info) {
              flag->store(true);
              return info.Env().Undefined();
            }));
    return out;
  }
  const std::atomic<bool>* cancel() const { return cancel_.get(); }
  void capture() { error_ = capture_current_exception(); }
  const std::string& message() const { return error_.message; }
  template <typename Build>
  void resolve(Napi::Env env, Build&& build) {
    if (env_closing()) return;
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(build());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(make_js_error(env, capture_current_exception()).Value());
    }
  }
  void reject(Napi::Env env) {
    if (env_closing()) return;
    Napi::HandleScope scope(env);
    deferred_.Reject(make_js_error(env, error_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  CancelFlag cancel_;
  std::shared_ptr<std::atomic<bool>> closing_;
  CapturedError error_;
};

// A plain background job: subclasses do the work in Run() and build the value in Result().
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), settler_(env) {}
  Napi::Object job(Napi::Env env) { return settler_.job(env); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  const std::atomic<bool>* cancel() const { return settler_.cancel(); }

  void Execute() override {
    try {
      Run();
    } catch (...) {
      settler_.capture();
      SetError(settler_.message());
    }
  }
  void OnOK() override { settler_.resolve(Env(), [&] { return Result(Env()); }); }
  void OnError(const Napi::Error&) override { settler_.reject(Env()); }

 private:
  Settler settler_;
};

// Queues a worker (it deletes itself when done) and returns its { promise, cancel }.
template <typename Worker>
Napi::Object queue_job(Napi::Env env, Worker* worker) {
  auto job = worker->job(env);
  worker->Queue();
  return job;
}

}  // namespace torchfit::binding
