// The hand-written CPU kernels, as plain functions on raw float buffers: one image or one
// channel plane per call, so the libtorch side (conv1ch.cc, activation_bn_pool.cc) owns the
// threading, the allocation and the reductions across the batch. Two builds of the same
// source (kernels_impl.h): AVX2+FMA and portable; kernels() picks one at run time.
#pragma once

#include <cstdint>

namespace torchfit::kernels {

// Plain data only: kernels_avx2.cc sees this header, and any inline code here would be
// compiled there with AVX2 too (one such copy picked by the linker would break old CPUs).

// A 3x3, stride-1 convolution of a 1-channel height x width image with `pad` zeros on every side.
struct ConvGeometry {
  int64_t height, width, pad;
};

// One channel plane of the sigmoid/BatchNorm/max-pool block. The sigmoid output is kept with
// a row stride rounded up to 16 (plane_stride), so every row splits into whole pooling chunks.
struct PlaneGeometry {
  int64_t height, width;
};

// The activation before the BatchNorm and max-pool of activation_pool_plane and its backward.
enum class PoolActivation : int { sigmoid, relu };

struct KernelTable {
  const char* isa;  // "avx2" or "generic"

  // out[c] (out_h x out_w) = bias[c] + sum_taps weight[c*9 + t] * x, for c < channels.
  void (*conv_forward)(const float* x, const float* weight, const float* bias, int64_t channels,
                       const ConvGeometry& g, float* scratch, float* out);
  // dweight[c*9 + t] += sum dout[c] * x shifted by tap t; dbias[c] += sum dout[c].
  void (*conv_grad_weight)(const float* x, const float* dout, int64_t channels, const ConvGeometry& g,
                           float* scratch, double* dweight, double* dbias);
  // dx (h x w) = sum_c dout[c] correlated with the flipped kernel c.
  void (*conv_grad_input)(const float* dout, const float* weight, int64_t channels, const ConvGeometry& g,
                          float* scratch, float* dx);

  // One plane: s = act(z) (z with row stride width, s with plane_stride), its sum and
  // squared deviations from the plane mean (when sum is not null), and each 2x2 window's
  // winner for a following BatchNorm (scale of sign `sign`) and max-pool: s_at, the winner's
  // activation, and idx (0..3, row-major in the window, when not null).
  void (*activation_pool_plane)(const float* z, const PlaneGeometry& g, PoolActivation act, int sign, float* s,
                                double* sum, double* m2, float* s_at, uint8_t* idx);
  // out[i] = in[i] * a + b.
  void (*scale_shift)(const float* in, int64_t n, float a, float b, float* out);
  // dz = (a*dy + b*(s - mean) + c) * act'(s): s(1 - s) for the sigmoid, s > 0 for ReLU; dy
  // being dpooled routed to each window's winner (0 elsewhere); dy_scratch holds height x
  // plane_stride floats.
  void (*activation_bn_pool_backward)(const float* s, const float* dpooled, const uint8_t* idx,
                                      const PlaneGeometry& g, PoolActivation act, float a, float b, float c,
                                      float mean, float* dy_scratch, float* dz);
  // One image of conv3x3 -> sigmoid -> (BatchNorm, max-pool): for every channel what
  // conv_forward and then activation_pool_plane (sigmoid) compute, without storing z. s, s_at, idx, sums
  // and m2s point at this image's first channel; scratch holds stem_scratch floats.
  void (*stem_forward_image)(const float* x, const float* weight, const float* bias, int64_t channels,
                             const ConvGeometry& g, const int* signs, float* scratch, float* s, double* sums,
                             double* m2s, float* s_at, uint8_t* idx);
  // Its backward: per channel the dz of activation_bn_pool_backward (sigmoid), never stored, accumulated
  // into dweight (9 per channel) and dbias as conv_grad_weight does.
  void (*stem_backward_image)(const float* x, const float* s, const float* dpooled, const uint8_t* idx,
                              int64_t channels, const ConvGeometry& g, const float* a, const float* b, const float* c,
                              const float* mean, float* scratch, double* dweight, double* dbias);

  // Linear layers with out <= kMaxNarrowOutputs outputs, x (rows, in), w (out, in), y (rows, out):
  // y = x w^T + b for `rows` rows; dx = dy w; columns [f0, f1) of dw = dy^T x over n rows
  // (f0 a multiple of 8, f1 a multiple of 8 or in).
  void (*linear_forward_rows)(const float* x, const float* w, const float* b, int64_t rows, int64_t in, int64_t out,
                              float* y);
  void (*linear_grad_input_rows)(const float* dy, const float* w, int64_t rows, int64_t in, int64_t out, float* dx);
  void (*linear_grad_weight_cols)(const float* x, const float* dy, int64_t n, int64_t in, int64_t out, int64_t f0,
                                  int64_t f1, float* dw);
};

constexpr int64_t kMaxNarrowOutputs = 8;

const KernelTable& kernels();             // the best the CPU supports, or the forced one
const KernelTable& generic_kernels();
const KernelTable* avx2_kernels();        // nullptr where not built or not supported by this CPU
const KernelTable* avx2_table();          // the AVX2 build without the CPU check (kernels_avx2.cc)
// Tests: force "generic" or "avx2" (when supported), or "" for automatic. False if unavailable.
bool force_kernels(const char* isa);

// Sizes the callers allocate (floats), defined with the code in dispatch.cc.
int64_t plane_stride(const PlaneGeometry& g);
int64_t conv_forward_scratch(const ConvGeometry& g);  // also what conv_grad_weight needs
int64_t conv_grad_input_scratch(const ConvGeometry& g, int64_t channels);
int64_t stem_scratch(const ConvGeometry& g);

}  // namespace torchfit::kernels
