// PyTorch's DistributedSampler semantics for one epoch's (already shuffled) order.
#pragma once

#include <torch/types.h>

namespace torchfit {

// Every rank's share of n samples: ceil(n / world_size), equal on all ranks so that
// every rank runs the same number of steps (and so the same collectives).
inline int64_t shard_size(int64_t n, int world_size) { return (n + world_size - 1) / world_size; }

// The order padded by wrapping around to a multiple of world_size (a few samples seen
// twice, as DistributedSampler does without drop_last), then positions rank,
// rank + world_size, ...: strided, so each shard is a spread of the same shuffled order.
torch::Tensor shard_order(const torch::Tensor& order, int rank, int world_size);

// Contiguous part [begin, end) of n items for one rank, sizes differing by at most one
// (validation: no padding, the sums are combined exactly).
std::pair<int64_t, int64_t> contiguous_part(int64_t n, int rank, int world_size);

}  // namespace torchfit
