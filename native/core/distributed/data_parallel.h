// Keeping the replicas on all ranks identical, and combining what each rank computed.
#pragma once

#include <torch/nn/module.h>
#include <vector>

#include "core/distributed/communicator.h"
#include "core/optimizer.h"

namespace torchfit {

// Rank 0's parameters, buffers, optimizer slots and step count, copied to every rank
// (as DDP does at construction): a resumed or differently seeded replica cannot drift.
void broadcast_state(Communicator& comm, torch::nn::Module& model, Optimizer* optimizer);

// Averages the floating-point buffers (BatchNorm's running mean and variance) over ranks.
// Their update is linear in the batch statistics, so averaging once per epoch gives what
// averaging after every step would: the running mean of the combined batches' means.
void average_buffers(Communicator& comm, torch::nn::Module& model);

// Sums a few float64 values (metric sums and counts) over ranks.
std::vector<double> sum_over_ranks(Communicator& comm, const std::vector<double>& values, const char* what);

// Gradients averaged over ranks in flat buckets of at most bucket_bytes (DDP's
// bucket_cap_mb), one all-reduce per bucket, all launched before any is awaited. After
// backward, not overlapped with it: see docs/distributed.md for why and what that costs.
class GradientBuckets {
 public:
  GradientBuckets(std::vector<torch::Tensor> params, int64_t bucket_bytes);
  void average(Communicator& comm);
  size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into params_
    torch::Tensor flat;
  };
  std::vector<torch::Tensor> params_;
  std::vector<Bucket> buckets_;
};

}  // namespace torchfit
