// winograd_impl.h built for AVX-512 (CMakeLists.txt: -mavx512f -mfma), 16 lanes: the engine's
// block on CPUs where oneDNN runs its AVX-512 kernels. Plain loops in an anonymous namespace,
// as kernels_avx2.cc: no AVX-512 copy of a shared inline function can reach other code.
#include "core/kernels/winograd_table.h"

#if defined(TORCHFIT_AVX512_KERNELS) && defined(__AVX512F__)

namespace torchfit::kernels {
namespace wino_avx512 {
namespace {

constexpr const char* kIsa = "avx512";
constexpr int kLanes = 16;
#include "core/kernels/winograd_impl.h"

}  // namespace
}  // namespace wino_avx512

const WinogradTable* winograd_avx512_table() { return &wino_avx512::kTable; }

}  // namespace torchfit::kernels

#else

namespace torchfit::kernels {
const WinogradTable* winograd_avx512_table() { return nullptr; }
}  // namespace torchfit::kernels

#endif
