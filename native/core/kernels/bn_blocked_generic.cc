// bn_blocked_impl.h for any CPU (CMakeLists.txt: -ffp-contract=off), and the choice of build.
#include <cstring>

#include "core/kernels/bn_blocked_table.h"
#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {
namespace bn_generic {
namespace {

constexpr const char* kIsa = "generic";
#include "core/kernels/bn_blocked_impl.h"

}  // namespace
}  // namespace bn_generic

const BnBlockedTable& bn_blocked_generic_table() { return bn_generic::kTable; }

const BnBlockedTable& bn_blocked_kernels() {
  // kernels() says "avx2" only where the CPU has it and the AVX2 build exists.
  const auto* avx2 = bn_blocked_avx2_table();
  return avx2 != nullptr && std::strcmp(kernels().isa, "avx2") == 0 ? *avx2 : bn_blocked_generic_table();
}

}  // namespace torchfit::kernels
