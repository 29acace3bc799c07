// bn_blocked_impl.h built for AVX2 + FMA (CMakeLists.txt: -mavx2 -mfma -ffp-contract=off).
// Plain loops only, no library templates, all in an anonymous namespace: no AVX2 copy of a
// shared inline function can reach code that runs on older CPUs.
#include "core/kernels/bn_blocked_table.h"

#if defined(TORCHFIT_AVX2_KERNELS) && defined(__AVX2__) && defined(__FMA__)

namespace torchfit::kernels {
namespace bn_avx2 {
namespace {

constexpr const char* kIsa = "avx2";
#include "core/kernels/bn_blocked_impl.h"

}  // namespace
}  // namespace bn_avx2

const BnBlockedTable* bn_blocked_avx2_table() { return &bn_avx2::kTable; }

}  // namespace torchfit::kernels

#else

namespace torchfit::kernels {
const BnBlockedTable* bn_blocked_avx2_table() { return nullptr; }
}  // namespace torchfit::kernels

#endif
