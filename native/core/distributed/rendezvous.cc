#include "core/distributed/rendezvous.h"

#ifdef TORCHFIT_WITH_C10D

#include <chrono>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/distributed/errors.h"

namespace torchfit {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* const kClosing = "torchfit/closing";
const char* const kLeft = "torchfit/left";
std::string joined_key(int rank) { return "torchfit/joined/" + std::to_string(rank); }

milliseconds remaining(Clock::time_point deadline) {
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

c10::intrusive_ptr<c10d::Store> open_store(const DistributedConfig& c, Clock::time_point deadline) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(c.master_port);
  options.isServer = c.rank == 0;
  options.waitWorkers = false;  // we wait ourselves, and can then say who is missing
  options.timeout = remaining(deadline);
  try {
    return c10::make_intrusive<c10d::TCPStore>(c.master_addr, options);
  } catch (...) {
    const auto cause = current_cause();
    const auto where = c.master_addr + ":" + std::to_string(c.master_port);
    throw distributed_error(c, c.rank == 0 ? "hosting the rendezvous store at " + where + " (is the port free?)"
                                           : "reaching rank 0's rendezvous store at " + where + " (is rank 0 running?)",
                            cause, /*during_rendezvous=*/true);
  }
}

}  // namespace

c10::intrusive_ptr<c10d::Store> rendezvous(const DistributedConfig& c, const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + milliseconds(c.rendezvous_timeout_ms);
  c10::intrusive_ptr<c10d::Store> store;
  // A store still marked closing belongs to the previous run on this port: wait for the new one.
  for (;;) {
    check_cancel(cancel);
    store = open_store(c, deadline);
    bool stale = false;
    try {
      stale = c.rank != 0 && store->check({kClosing});
    } catch (...) {
      stale = true;  // it shut down under us
    }
    if (!stale) break;
    store.reset();
    if (Clock::now() >= deadline) throw distributed_error(c, "waiting for rank 0's new rendezvous store", "timed out", true);
    std::this_thread::sleep_for(milliseconds(50));
  }

  try {
    store->setTimeout(milliseconds(c.timeout_ms));
    if (store->add(joined_key(c.rank), 1) != 1) {
      throw Error("ERR_DISTRIBUTED", "distributed rank " + std::to_string(c.rank) + " of " + std::to_string(c.world_size) +
                                         ": another process already joined as rank " + std::to_string(c.rank) +
                                         " (each process needs its own distributed.rank)");
    }
    std::vector<std::string> keys;
    for (int r = 0; r < c.world_size; ++r) keys.push_back(joined_key(r));
    // Polled rather than store->wait(), so that cancellation is seen while waiting.
    while (!store->check(keys)) {
      check_cancel(cancel);
      if (Clock::now() >= deadline) {
        std::string missing;
        for (int r = 0; r < c.world_size; ++r) {
          if (!store->check({joined_key(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        }
        throw Error("ERR_DISTRIBUTED_TIMEOUT", "distributed rank " + std::to_string(c.rank) + " of " +
                                                   std::to_string(c.world_size) + ": rank(s) " + missing +
                                                   " did not arrive within distributed.rendezvousTimeoutMs (" +
                                                   std::to_string(c.rendezvous_timeout_ms) + " ms)");
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  } catch (...) {
    throw distributed_error(c, "the rendezvous", current_cause(), true);
  }
  return store;
}

void say_goodbye(c10d::Store& store, const DistributedConfig& c) {
  const auto deadline = Clock::now() + milliseconds(c.timeout_ms);
  try {
    if (c.rank == 0) {
      store.set(kClosing, {1});
      store.add(kLeft, 1);
      while (store.add(kLeft, 0) < c.world_size && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
    } else {
      store.add(kLeft, 1);
      while (!store.check({kClosing}) && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
    }
  } catch (...) {
    // Training is complete on this rank; a peer that vanished now changes nothing.
  }
}

}  // namespace torchfit

#endif
