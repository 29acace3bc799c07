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

// A value TypeScript validates away reached C++ anyway (an unknown enum name, a resumed model
// on another device): a bug in torchfit, not bad input, so it carries ERR_INTERNAL rather than
// a user-facing code. Used where the core or the binding trusts what TypeScript checked.
[[noreturn]] inline void internal_error(const std::string& what) {
  throw Error("ERR_INTERNAL", "internal error (TypeScript should have refused this): " + what);
}
inline void check_internal(bool holds, const std::string& what) {
  if (!holds) internal_error(what);
}

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
