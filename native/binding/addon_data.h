// Per-environment state (SetInstanceData), so the addon loads in several worker threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <napi.h>
#include <vector>

namespace torchfit::binding {

// Jobs started in one environment (the main thread or a worker thread). When the
// environment ends (worker terminate(), process.exit() in a worker) every job still
// running is cancelled, and their completions no longer touch JavaScript.
class JobRegistry {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;
  void add(const Flag& flag) {
    std::lock_guard<std::mutex> lock(mutex_);
    flags_.erase(std::remove_if(flags_.begin(), flags_.end(), [](const auto& w) { return w.expired(); }), flags_.end());
    flags_.push_back(flag);
  }
  void close() {
    closing_->store(true);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& weak : flags_) {
      if (auto flag = weak.lock()) flag->store(true);
    }
  }
  // Shared with jobs so they can check it after the registry itself is gone.
  std::shared_ptr<std::atomic<bool>> closing() const { return closing_; }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<std::atomic<bool>>> flags_;
  std::shared_ptr<std::atomic<bool>> closing_ = std::make_shared<std::atomic<bool>>(false);
};

struct AddonData {
  Napi::FunctionReference tensor_constructor;
  Napi::FunctionReference model_constructor;
  JobRegistry jobs;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace torchfit::binding
