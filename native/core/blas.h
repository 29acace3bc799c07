// OpenBLAS (Debian's BLAS for libtorch) starts its own thread pool, which fights
// libtorch's OpenMP threads for the same cores; the matrix products in these
// models are tiny, so one BLAS thread is faster (measured: CNN step 112 -> 95 ms).
#pragma once

namespace torchfit {

// Sets OpenBLAS to one thread when OpenBLAS is the loaded BLAS; a no-op otherwise.
void limit_blas_threads();

}  // namespace torchfit
