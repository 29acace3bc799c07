#include "core/blas.h"

#include <dlfcn.h>
#include <mutex>

namespace torchfit {

void limit_blas_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    using SetThreads = void (*)(int);
    if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(1);
  });
}

}  // namespace torchfit
