#include "core/distributed/errors.h"

#include <algorithm>
#include <c10/util/Exception.h>
#include <cctype>
#include <exception>

namespace torchfit {
namespace {

bool mentions_timeout(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return text.find("timed out") != std::string::npos || text.find("timeout") != std::string::npos;
}

// Gloo prefixes its messages with "[./gloo/transport/tcp/pair.cc:598] ".
std::string without_location(const std::string& text) {
  if (!text.empty() && text.front() == '[') {
    const auto end = text.find("] ");
    if (end != std::string::npos) return text.substr(end + 2);
  }
  return text;
}

}  // namespace

Error distributed_error(const DistributedConfig& c, const std::string& what, const std::string& cause,
                        bool during_rendezvous) {
  const std::string who = "distributed rank " + std::to_string(c.rank) + " of " + std::to_string(c.world_size) + ": ";
  if (mentions_timeout(cause)) {
    const std::string option = during_rendezvous ? "rendezvousTimeoutMs" : "timeoutMs";
    return Error("ERR_DISTRIBUTED_TIMEOUT", who + what + " got no answer within distributed." + option + " (" +
                                                std::to_string(during_rendezvous ? c.rendezvous_timeout_ms : c.timeout_ms) +
                                                " ms): another rank is stopped, hung, far slower or never started (" +
                                                cause + ")");
  }
  return Error("ERR_DISTRIBUTED", who + what + " failed: " + cause +
                                      " (another rank probably died, was cancelled or failed: see its own error)");
}

std::string current_cause() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    std::string text = e.what_without_backtrace();
    // c10 appends "Exception raised from ..." on a new line; the first line says it all.
    const auto newline = text.find('\n');
    return without_location(newline == std::string::npos ? text : text.substr(0, newline));
  } catch (const std::exception& e) {
    return without_location(e.what());
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace torchfit
