// The kernels for any CPU: the same source as the AVX2 build, on an eight-float array.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {
namespace generic {
namespace {

constexpr const char* kIsa = "generic";
#include "core/kernels/vec_generic.h"
#include "core/kernels/kernels_impl.h"

}  // namespace
}  // namespace generic

const KernelTable& generic_kernels() { return generic::kTable; }

}  // namespace torchfit::kernels
