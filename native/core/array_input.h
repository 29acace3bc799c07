// An array a job reads, owned by whoever started the job (the binding: a view of a JS typed
// array or a tensor handle). It becomes a tensor only on the job's own thread, once the job
// knows the device; the tensor may view the owner's memory, so the job drops it before it
// returns and never keeps it beyond the owner.
#pragma once

#include <torch/types.h>

namespace torchfit {

class ArrayInput {
 public:
  virtual ~ArrayInput() = default;
  // A tensor of `dtype` on `device`, in the array's logical shape.
  virtual torch::Tensor materialize(torch::Device device, torch::ScalarType dtype) const = 0;
};

}  // namespace torchfit
