// winograd_impl.h built for AVX2 + FMA (CMakeLists.txt: -mavx2 -mfma), 8 lanes: the engine's
// block where oneDNN runs its AVX2 kernels. Plain loops in an anonymous namespace,
// as kernels_avx2.cc: no AVX2 copy of a shared inline function can reach other code.
#include "core/kernels/winograd_table.h"

#if defined(TORCHFIT_AVX2_KERNELS) && defined(__AVX2__) && defined(__FMA__)

namespace torchfit::kernels {
namespace wino_avx2 {
namespace {

constexpr const char* kIsa = "avx2";
constexpr int kLanes = 8;
#include "core/kernels/winograd_impl.h"

}  // namespace
}  // namespace wino_avx2

const WinogradTable* winograd_avx2_table() { return &wino_avx2::kTable; }

}  // namespace torchfit::kernels

#else

namespace torchfit::kernels {
const WinogradTable* winograd_avx2_table() { return nullptr; }
}  // namespace torchfit::kernels

#endif
