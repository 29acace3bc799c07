// Distributed failures as the core's typed errors: which rank, doing what, and why.
#pragma once

#include <string>

#include "core/config.h"
#include "core/errors.h"

namespace torchfit {

// ERR_DISTRIBUTED_TIMEOUT when `cause` reports a timeout (a peer stopped, hung or never
// came), ERR_DISTRIBUTED otherwise (a peer died or closed its connections, bad address).
// during_rendezvous: the timeout that applied was rendezvousTimeoutMs, not timeoutMs.
Error distributed_error(const DistributedConfig& config, const std::string& what, const std::string& cause,
                        bool during_rendezvous = false);

// Inside a catch block: the in-flight exception's message, without libtorch's backtrace
// or Gloo's source-location prefix. Rethrows torchfit::Error (cancellation included) as is.
std::string current_cause();

}  // namespace torchfit
