// Random transforms of training batches with the meanings of Keras's ImageDataGenerator
// (rotation, shifts and zoom as one affine map sampled bilinearly, as scipy.ndimage's
// affine_transform with order 1 does for Keras; then flips), plus the ResNet papers'
// pad-and-crop. Plain tensor ops: the batch stays on its device.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "core/config.h"

namespace torchfit {

// Per-image draws, one row each (float64, CPU), columns:
enum AugmentParam : int64_t {
  kRotationDegrees = 0,
  kRowShift,      // pixels; the output row r samples the input near r + shift
  kColShift,
  kRowZoom,
  kColZoom,
  kFlipHorizontal,  // 0 or 1
  kFlipVertical,
  kCropRow,       // random-crop offset in [-padding, padding]
  kCropCol,
  kAugmentParamCount,
};

// Draws every image's parameters from `gen` (a fixed number of draws per image).
torch::Tensor draw_augment_params(int64_t n, int64_t height, int64_t width, const AugmentConfig& config,
                                  at::Generator& gen);

// Applies given parameters to an (N, C, H, W) float batch: affine map, flips, crop.
// cpu_loop: CPU float32 batches take the single-pass loop for the affine map; false forces
// the tensor-op path every device runs (the tests compare the two).
torch::Tensor apply_augment(const torch::Tensor& images, const torch::Tensor& params, const AugmentConfig& config,
                            bool cpu_loop = true);

inline torch::Tensor augment_batch(const torch::Tensor& images, const AugmentConfig& config, at::Generator& gen) {
  return apply_augment(images, draw_augment_params(images.size(0), images.size(2), images.size(3), config, gen), config);
}

}  // namespace torchfit
