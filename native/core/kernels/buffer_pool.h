// Recycled memory for the fused kernels' large per-batch tensors (activations and their
// gradients: 6-14 MB each at batch 128). A fresh block of that size is page-faulted in on
// first touch, and glibc's malloc, on the training thread, often hands such blocks back to
// the kernel when freed: the ResNet head's 6.4 MB input gradient then took 6 ms to write
// instead of 2 (1,570 faults at ~4 us on this VM). Blocks come back here when their tensor
// dies and serve the next request of the same size; a job frees them when it ends.
#pragma once

#include <torch/types.h>

namespace torchfit::kernels {

// An uninitialised float32 CPU tensor; under 128 KiB it comes from libtorch's allocator.
torch::Tensor recycled_empty(at::IntArrayRef sizes);

// A job (fit, evaluate, predict) that uses the pool: while any is running the idle blocks
// stay; when the last one ends they are freed, exceptions included. Jobs nest (fit's
// validation passes are evaluate jobs: freeing there made every epoch's first steps
// page-fault the whole working set in again) and run side by side (two trainings in one
// process share the pool).
class RecycledJob {
 public:
  RecycledJob();
  RecycledJob(const RecycledJob&) = delete;
  RecycledJob& operator=(const RecycledJob&) = delete;
  ~RecycledJob();
};

}  // namespace torchfit::kernels
