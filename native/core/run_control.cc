#include "core/run_control.h"

namespace torchfit {

RunControl::RunControl(const TrainConfig& config, const std::atomic<bool>* stop, bool batch_stops, Communicator* comm)
    : stop_(stop), comm_(comm), start_(Clock::now()), limit_ms_(config.time_limit_ms) {
  if (comm_ != nullptr) {
    // Whether any rank can stop between batches: then every rank compares flags every step.
    auto any = torch::tensor({static_cast<int64_t>(batch_stops || limit_ms_ > 0)}, torch::kInt64);
    std::vector<torch::Tensor> tensors{any};
    comm_->all_reduce_max(tensors, "agreeing on stop checks");
    per_step_ = tensors[0].item<int64_t>() != 0;
  }
}

bool RunControl::decide(bool combine) {
  int64_t requested = stop_ != nullptr && stop_->load(std::memory_order_relaxed) ? 1 : 0;
  int64_t timed_out = limit_ms_ > 0 && std::chrono::duration<double, std::milli>(Clock::now() - start_).count() >= limit_ms_ ? 1 : 0;
  if (combine && comm_ != nullptr) {
    auto flags = torch::tensor({requested, timed_out}, torch::kInt64);
    std::vector<torch::Tensor> tensors{flags};
    comm_->all_reduce_max(tensors, "agreeing on stopping");
    requested = tensors[0][0].item<int64_t>();
    timed_out = tensors[0][1].item<int64_t>();
  }
  if (requested != 0) reason_ = StopReason::Requested;
  else if (timed_out != 0) reason_ = StopReason::TimeLimit;
  return requested != 0 || timed_out != 0;
}

bool RunControl::end_epoch_now() {
  // Alone: a flag and a clock read. With other ranks, only where every rank checks.
  if (comm_ != nullptr && !per_step_) return false;
  return decide(true);
}

bool RunControl::end_run_now() { return decide(true); }

}  // namespace torchfit
