// Image layouts: Keras's channels_last (N, H, W, C) arrives as is from JavaScript and is
// turned into the (N, C, H, W) every model takes, once, on the worker thread.
#pragma once

#include <torch/types.h>

namespace torchfit {

// A contiguous (N, C, H, W) copy of (N, H, W, C) images, on their device.
torch::Tensor channels_last_to_first(const torch::Tensor& nhwc);

}  // namespace torchfit
