// Picks the kernel build at run time: AVX2+FMA where the CPU has it, else the portable one.
#include <atomic>
#include <cstring>

#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {
namespace {

std::atomic<const KernelTable*> forced{nullptr};
int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

}  // namespace

const KernelTable* avx2_kernels() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported ? avx2_table() : nullptr;
#else
  return nullptr;
#endif
}

const KernelTable& kernels() {
  if (const auto* table = forced.load(std::memory_order_relaxed)) return *table;
  static const KernelTable* best = avx2_kernels() != nullptr ? avx2_kernels() : &generic_kernels();
  return *best;
}

bool force_kernels(const char* isa) {
  if (isa == nullptr || *isa == '\0') {
    forced.store(nullptr);
    return true;
  }
  if (std::strcmp(isa, "generic") == 0) {
    forced.store(&generic_kernels());
    return true;
  }
  if (std::strcmp(isa, "avx2") == 0 && avx2_kernels() != nullptr) {
    forced.store(avx2_kernels());
    return true;
  }
  return false;
}

// These mirror the layouts in kernels_impl.h (input_stride, grad_stride, ...).
int64_t plane_stride(const PlaneGeometry& g) { return round_up(g.width, 16); }

int64_t conv_forward_scratch(const ConvGeometry& g) {
  const int64_t out_width = g.width + 2 * g.pad - 2;
  return (g.height + 2 * g.pad + 1) * (round_up(out_width, 16) + 8);
}

int64_t stem_scratch(const ConvGeometry& g) {
  const int64_t out_height = g.height + 2 * g.pad - 2, out_width = g.width + 2 * g.pad - 2;
  return conv_forward_scratch(g) + out_height * plane_stride({out_height, out_width});
}

int64_t conv_grad_input_scratch(const ConvGeometry& g, int64_t channels) {
  const int64_t out_height = g.height + 2 * g.pad - 2;
  const int64_t padded = (out_height + 2 * (2 - g.pad) + 1) * (round_up(g.width, 8) + 8);
  return channels * padded + g.height * round_up(g.width, 8);
}

}  // namespace torchfit::kernels
