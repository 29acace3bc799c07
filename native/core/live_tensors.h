// Counts tensors held on behalf of JavaScript (tensor handles, model parameters,
// training data on the device) so leak tests can compare before and after.
#pragma once

#include <atomic>
#include <cstdint>

namespace torchfit {

int64_t live_tensors();
void add_live_tensors(int64_t delta);

// RAII: counts `n` tensors for as long as it lives.
class LiveTensorScope {
 public:
  explicit LiveTensorScope(int64_t n) : n_(n) { add_live_tensors(n_); }
  ~LiveTensorScope() { add_live_tensors(-n_); }
  LiveTensorScope(const LiveTensorScope&) = delete;
  LiveTensorScope& operator=(const LiveTensorScope&) = delete;

 private:
  int64_t n_;
};

}  // namespace torchfit
