// One data-parallel training step of a small network without BatchNorm, for tests.
// Without batch statistics the loss of a batch is a mean over independent samples, so the
// average of the ranks' gradients on equal shards must equal the gradient of the combined
// batch: the test compares exactly that against a one-process run.
#pragma once

#include <atomic>
#include <torch/types.h>
#include <vector>

#include "core/array_input.h"
#include "core/config.h"
#include "core/distributed/communicator.h"

namespace torchfit {

struct ProbeResult {
  std::vector<float> parameters;       // after the broadcast from rank 0, before the step
  std::vector<float> local_gradients;  // this rank's own gradients, before the all-reduce
  std::vector<float> gradients;        // after the all-reduce (local ones without a communicator)
  double loss = 0;                     // this rank's batch loss
};

// x: (N, C, H, W) float32, y: (N) int64 class indices; comm: nullptr for one process.
ProbeResult probe_step(const torch::Tensor& x, const torch::Tensor& y, int num_classes, uint64_t seed,
                       Communicator* comm, int64_t bucket_bytes);

// The whole _dataParallelProbe job on the calling thread: one intra-op thread, the data on the
// CPU, the group joined when distributed.enabled (left after the step), then probe_step.
ProbeResult run_probe(const ArrayInput& x, const ArrayInput& y, int num_classes, uint64_t seed,
                      const DistributedConfig& distributed, const std::atomic<bool>* cancel);

}  // namespace torchfit
