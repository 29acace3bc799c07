#include "core/distributed/data_parallel.h"

#include <cstring>


namespace torchfit {

void broadcast_state(Communicator& comm, torch::nn::Module& model, Optimizer* optimizer) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : model.parameters()) tensors.push_back(p.detach());
  for (const auto& b : model.buffers()) tensors.push_back(b);
  if (optimizer != nullptr) {
    // state() hands out the optimizer's own slot tensors, so the broadcast lands in place.
    for (const auto& slot : optimizer->state()) tensors.push_back(slot);
  }
  comm.broadcast(tensors, /*root=*/0, "broadcasting rank 0's weights");
  if (optimizer != nullptr) {
    std::vector<torch::Tensor> steps{torch::full({1}, optimizer->iterations(), torch::kInt64)};
    comm.broadcast(steps, /*root=*/0, "broadcasting rank 0's optimizer step");
    optimizer->load_state(optimizer->state(), steps[0].item<int64_t>());
  }
}

void average_buffers(Communicator& comm, torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> floating;
  for (const auto& b : model.buffers()) {
    if (b.is_floating_point()) floating.push_back(b);  // num_batches_tracked is equal everywhere
  }
  if (floating.empty()) return;
  comm.all_reduce_sum(floating, "averaging the BatchNorm statistics");
  for (auto& b : floating) b.div_(comm.world_size());
}

std::vector<double> sum_over_ranks(Communicator& comm, const std::vector<double>& values, const char* what) {
  auto t = torch::empty({static_cast<int64_t>(values.size())}, torch::kFloat64);
  std::memcpy(t.data_ptr<double>(), values.data(), values.size() * sizeof(double));
  std::vector<torch::Tensor> tensors{t};
  comm.all_reduce_sum(tensors, what);
  const auto* out = t.data_ptr<double>();
  return std::vector<double>(out, out + values.size());
}

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> params, int64_t bucket_bytes) : params_(std::move(params)) {
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool fits = !buckets_.empty() && sizes.back() + bytes <= bucket_bytes &&
                      params_[buckets_.back().members.front()].options().type_equal(p.options());
    if (!fits) {
      buckets_.push_back({});
      sizes.push_back(0);
    }
    buckets_.back().members.push_back(i);
    sizes.back() += bytes;
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const auto& first = params_[buckets_[b].members.front()];
    buckets_[b].flat = torch::empty({sizes[b] / static_cast<int64_t>(first.element_size())}, first.options());
  }
}

void GradientBuckets::average(Communicator& comm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flats;
  for (auto& bucket : buckets_) {
    int64_t offset = 0;
    for (const size_t i : bucket.members) {
      const auto& p = params_[i];
      auto slot = bucket.flat.narrow(0, offset, p.numel());
      // A parameter without a gradient (unused in this step) contributes zeros on this rank.
      if (p.grad().defined()) {
        slot.copy_(p.grad().reshape({-1}));
      } else {
        slot.zero_();
      }
      offset += p.numel();
    }
    flats.push_back(bucket.flat);
  }
  comm.all_reduce_sum(flats, "the gradient all-reduce");
  for (auto& bucket : buckets_) {
    bucket.flat.div_(comm.world_size());
    int64_t offset = 0;
    for (const size_t i : bucket.members) {
      auto& p = params_[i];
      auto averaged = bucket.flat.narrow(0, offset, p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(averaged);
      } else {
        p.mutable_grad() = averaged.clone();
      }
      offset += p.numel();
    }
  }
}

}  // namespace torchfit
