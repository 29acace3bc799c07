// Meeting the other ranks through c10d's TCPStore, hosted by rank 0.
#pragma once

#ifdef TORCHFIT_WITH_C10D

#include <atomic>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "core/config.h"

namespace torchfit {

// Connects (rank 0: hosts the store at master_port), then waits until all world_size ranks
// have joined, within timeout_ms. Names the ranks that never came.
c10::intrusive_ptr<c10d::Store> rendezvous(const DistributedConfig& config, const std::atomic<bool>* cancel);

// Best effort and bounded, never throws: rank 0 keeps its store open until every rank has
// said goodbye; the others wait until rank 0 has marked the store as closing, so that a
// later rendezvous on the same port cannot land on this store while it shuts down.
void say_goodbye(c10d::Store& store, const DistributedConfig& config);

}  // namespace torchfit

#endif
