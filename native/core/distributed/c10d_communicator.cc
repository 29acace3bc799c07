// Communicator over c10d: Gloo on CPU (and CUDA tensors), NCCL on CUDA builds that carry it.
#include "core/distributed/communicator.h"

#include "core/distributed/errors.h"

#ifdef TORCHFIT_WITH_C10D
#include "core/distributed/local_address.h"
#include "core/distributed/rendezvous.h"
#endif
// The headers open only under libtorch's own switches (TorchConfig sets them on some builds).
#ifdef TORCHFIT_WITH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef TORCHFIT_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace torchfit {

bool gloo_compiled() {
#ifdef TORCHFIT_WITH_GLOO
  return true;
#else
  return false;
#endif
}

bool nccl_compiled() {
#ifdef TORCHFIT_WITH_NCCL
  return true;
#else
  return false;
#endif
}

#ifdef TORCHFIT_WITH_C10D
namespace {

using std::chrono::milliseconds;

// Holds the concrete group type: c10d's base class differs between libtorch releases
// (ProcessGroup in 1.13, Backend in 2.x), the collectives' signatures do not.
template <typename Group>
class C10dCommunicator : public Communicator {
 public:
  // staging: the device every tensor must be on for this backend (NCCL: its GPU); none for Gloo.
  C10dCommunicator(DistributedConfig config, c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group,
                   c10::optional<torch::Device> staging = c10::nullopt)
      : config_(std::move(config)), store_(std::move(store)), group_(std::move(group)), staging_(staging) {}

  int rank() const override { return config_.rank; }
  int world_size() const override { return config_.world_size; }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what) override {
    all_reduce(tensors, c10d::ReduceOp::SUM, what);
  }
  void all_reduce_max(std::vector<torch::Tensor>& tensors, const char* what) override {
    all_reduce(tensors, c10d::ReduceOp::MAX, what);
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root, const char* what) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    run(tensors, what, [&](std::vector<at::Tensor>& one) { return group_->broadcast(one, options); });
  }

  void leave() override { say_goodbye(*store_, config_); }

 private:
  void all_reduce(std::vector<torch::Tensor>& tensors, c10d::ReduceOp op, const char* what) {
    c10d::AllreduceOptions options;
    options.reduceOp = op;
    run(tensors, what, [&](std::vector<at::Tensor>& one) { return group_->allreduce(one, options); });
  }

  // Launches one collective per tensor (a vector of several tensors means one per device
  // to c10d), then waits for all. The backend's own timeout bounds each wait; the margin
  // here only guards against a backend that would not honour it.
  template <typename Launch>
  void run(std::vector<torch::Tensor>& tensors, const char* what, Launch&& launch) {
    try {
      std::vector<std::vector<at::Tensor>> inputs;
      inputs.reserve(tensors.size());
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (auto& t : tensors) {
        const bool staged = staging_.has_value() && t.device() != *staging_;
        inputs.push_back({staged ? t.to(*staging_) : t});
        works.push_back(launch(inputs.back()));
      }
      for (auto& work : works) work->wait(milliseconds(config_.timeout_ms + 5000));
      for (size_t i = 0; i < tensors.size(); ++i) {
        if (!inputs[i][0].is_same(tensors[i])) tensors[i].copy_(inputs[i][0]);
      }
    } catch (...) {
      throw distributed_error(config_, what, current_cause());
    }
  }

  DistributedConfig config_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  c10::optional<torch::Device> staging_;
};

#ifdef TORCHFIT_WITH_GLOO
// The address peers reach us on: the interface asked for (GLOO_SOCKET_IFNAME), else the
// one that routes to the master, so one setting (masterAddr) serves loopback and clusters.
std::shared_ptr<::gloo::transport::Device> gloo_device(const DistributedConfig& c) {
  if (!c.interface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(c.interface);
  const auto local = is_loopback_host(c.master_addr) ? std::string("127.0.0.1") : local_address_towards(c.master_addr, c.master_port);
  if (!local.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(local);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::unique_ptr<Communicator> connect_gloo(const DistributedConfig& c, c10::intrusive_ptr<c10d::Store> store) {
  auto options = c10d::ProcessGroupGloo::Options::create(milliseconds(c.timeout_ms));
  options->devices.push_back(gloo_device(c));
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, c.rank, c.world_size, options);
  return std::make_unique<C10dCommunicator<c10d::ProcessGroupGloo>>(c, std::move(store), std::move(group));
}
#endif

#ifdef TORCHFIT_WITH_NCCL
// Not exercised on the machines this was written on (no GPU): see docs/distributed.md.
std::unique_ptr<Communicator> connect_nccl(const DistributedConfig& c, c10::intrusive_ptr<c10d::Store> store,
                                           torch::Device device) {
  check_internal(device.is_cuda(), "distributed.backend 'nccl' on " + device.str() + ", not a CUDA device");
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = milliseconds(c.timeout_ms);
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, c.rank, c.world_size, options);
  return std::make_unique<C10dCommunicator<c10d::ProcessGroupNCCL>>(c, std::move(store), std::move(group), device);
}
#endif

}  // namespace
#endif  // TORCHFIT_WITH_C10D

std::unique_ptr<Communicator> connect(const DistributedConfig& c, torch::Device device, const std::atomic<bool>* cancel) {
  const bool nccl = c.backend == DistributedBackend::Nccl;
  const std::string name = backend_name(c.backend);
  const bool wanted_available = nccl ? nccl_compiled() : gloo_compiled();
  if (!wanted_available) {
    throw Error("ERR_DISTRIBUTED_UNAVAILABLE",
                "this build of torchfit has no " + name + " backend" +
                    (nccl ? ": NCCL needs a CUDA libtorch with c10d's NCCL headers and nccl.h, then a rebuild"
                                         : ": install Gloo's headers (Debian: apt-get install libgloo-dev) and rebuild (npx torchfit build)"));
  }
#ifdef TORCHFIT_WITH_C10D
  auto store = rendezvous(c, cancel);
  try {
#ifdef TORCHFIT_WITH_NCCL
    if (nccl) return connect_nccl(c, store, device);
#endif
#ifdef TORCHFIT_WITH_GLOO
    return connect_gloo(c, store);
#endif
  } catch (...) {
    throw distributed_error(c, "connecting the " + name + " process group", current_cause());
  }
#endif
  throw Error("ERR_DISTRIBUTED_UNAVAILABLE", "no distributed backend in this build");
}

}  // namespace torchfit
