// Which local address reaches a given host: what Gloo must bind to so that peers on
// other machines can connect back (the host name often resolves to 127.0.1.1 on Debian).
#pragma once

#include <string>

namespace torchfit {

// The numeric address of the interface the kernel would route `host` through, found by
// connecting a UDP socket (nothing is sent). Empty when the host does not resolve.
std::string local_address_towards(const std::string& host, int port);

bool is_loopback_host(const std::string& host);

}  // namespace torchfit
