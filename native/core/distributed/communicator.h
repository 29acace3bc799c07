// The collectives data-parallel training needs, behind an interface so that the fit
// loop never includes c10d's headers (they exist only when Gloo/NCCL support is built).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <torch/types.h>
#include <vector>

#include "core/config.h"

namespace torchfit {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // In place, every tensor on its own (all launched, then all awaited), wherever it lives:
  // a backend that cannot reach it (NCCL and CPU tensors) works on a copy. `what` names the
  // operation in error messages ("the gradient all-reduce").
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what) = 0;
  virtual void all_reduce_max(std::vector<torch::Tensor>& tensors, const char* what) = 0;
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root, const char* what) = 0;

  // An orderly goodbye after the last collective: rank 0 hosts the store, so it waits until
  // every rank has said goodbye before closing it (bounded by the timeout).
  virtual void leave() = 0;
};

// Which backends this build carries (compile-time: TORCHFIT_WITH_GLOO, TORCHFIT_WITH_NCCL).
bool gloo_compiled();
bool nccl_compiled();

// Rendezvous at config.master_addr:master_port (rank 0 hosts the TCPStore), then the
// backend's process group. `device`: where training runs (NCCL works on that GPU). Waiting
// for the others is bounded by config.rendezvous_timeout_ms, every collective by
// config.timeout_ms; `cancel` is checked while waiting for the other ranks to arrive.
// Throws Error with code ERR_DISTRIBUTED, ERR_DISTRIBUTED_TIMEOUT or ERR_DISTRIBUTED_UNAVAILABLE.
std::unique_ptr<Communicator> connect(const DistributedConfig& config, torch::Device device,
                                      const std::atomic<bool>* cancel);

}  // namespace torchfit
