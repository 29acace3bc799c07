#include "core/live_tensors.h"

namespace torchfit {
namespace {
std::atomic<int64_t> counter{0};
}

int64_t live_tensors() { return counter.load(); }
void add_live_tensors(int64_t delta) { counter.fetch_add(delta); }

}  // namespace torchfit
