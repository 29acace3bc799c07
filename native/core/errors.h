// Errors the core throws on purpose; the binding maps `code` onto the JS error.
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>

namespace torchfit {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Thrown from inside a loop when the cancel flag was raised.
class Cancelled : public Error {
 public:
  Cancelled() : Error("ABORT_ERR", "The operation was aborted") {}
};

// The check every loop makes between batches: a raised flag (null: not cancellable) ends the job.
inline void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace torchfit
