// The kernels built for AVX2 + FMA: the only file compiled with -mavx2 -mfma (CMakeLists.txt).
// It includes no libtorch or C++ library templates and defines everything else in its own
// anonymous namespace, so no AVX2 copy of a shared inline function can reach code that runs
// on older CPUs. dispatch.cc checks the CPU before handing the table out.
#include "core/kernels/kernel_table.h"

#if defined(TORCHFIT_AVX2_KERNELS) && defined(__AVX2__) && defined(__FMA__)

#include <cstdint>
#include <cstring>
#include <immintrin.h>

namespace torchfit::kernels {
namespace avx2 {
namespace {

constexpr const char* kIsa = "avx2";
#include "core/kernels/vec_avx2.h"
#include "core/kernels/kernels_impl.h"

}  // namespace
}  // namespace avx2

const KernelTable* avx2_table() { return &avx2::kTable; }

}  // namespace torchfit::kernels

#else

namespace torchfit::kernels {
const KernelTable* avx2_table() { return nullptr; }
}  // namespace torchfit::kernels

#endif
