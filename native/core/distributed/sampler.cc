#include "core/distributed/sampler.h"

namespace torchfit {

torch::Tensor shard_order(const torch::Tensor& order, int rank, int world_size) {
  const int64_t n = order.size(0);
  const int64_t total = shard_size(n, world_size) * world_size;
  auto padded = total == n ? order : order.index_select(0, torch::arange(total, order.options()).remainder(n));
  return padded.slice(0, rank, total, world_size);
}

std::pair<int64_t, int64_t> contiguous_part(int64_t n, int rank, int world_size) {
  return {n * rank / world_size, n * (rank + 1) / world_size};
}

}  // namespace torchfit
