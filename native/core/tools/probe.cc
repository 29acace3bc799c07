#include "core/tools/probe.h"

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/device.h"
#include "core/distributed/data_parallel.h"
#include "core/init.h"

namespace torchfit {
namespace {

std::vector<float> flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<float> out;
  for (const auto& t : tensors) {
    const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

std::vector<torch::Tensor> gradients_of(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.grad().detach().clone());
  return out;
}

}  // namespace

ProbeResult probe_step(const torch::Tensor& x, const torch::Tensor& y, int num_classes, uint64_t seed,
                       Communicator* comm, int64_t bucket_bytes) {
  const int64_t channels = x.size(1), height = x.size(2), width = x.size(3);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 4, /*kernel_size=*/3)),
                            torch::nn::ReLU(), torch::nn::Flatten(),
                            torch::nn::Linear(4 * (height - 2) * (width - 2), 16), torch::nn::Tanh(),
                            torch::nn::Linear(16, num_classes));
  auto gen = make_cpu_generator(seed);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters()) {
      if (p.key().find("weight") != std::string::npos) {
        glorot_uniform_(p.value(), gen);
      } else {
        p.value().uniform_(-0.1, 0.1, gen);  // non-zero biases, so their gradients are tested too
      }
    }
  }
  const auto params = net->parameters();
  if (comm != nullptr) broadcast_state(*comm, *net, nullptr);

  ProbeResult result;
  result.parameters = flatten(params);
  auto loss = torch::nll_loss(torch::log_softmax(net->forward(x), 1), y);
  loss.backward();
  result.loss = loss.item<double>();
  result.local_gradients = flatten(gradients_of(params));
  if (comm != nullptr) GradientBuckets(params, bucket_bytes).average(*comm);
  result.gradients = flatten(gradients_of(params));
  return result;
}

ProbeResult run_probe(const ArrayInput& x_in, const ArrayInput& y_in, int num_classes, uint64_t seed,
                      const DistributedConfig& distributed, const std::atomic<bool>* cancel) {
  set_threads(1);
  const auto x = x_in.materialize(torch::kCPU, torch::kFloat32);
  const auto y = y_in.materialize(torch::kCPU, torch::kInt64);
  std::unique_ptr<Communicator> comm;
  if (distributed.enabled) comm = connect(distributed, torch::kCPU, cancel);
  auto result = probe_step(x, y, num_classes, seed, comm.get(), distributed.bucket_bytes);
  if (comm) comm->leave();
  return result;
}

}  // namespace torchfit
