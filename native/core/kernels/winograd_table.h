// The engine's own Winograd F(4x4, 3x3) convolution loop (winograd.h says where it runs), on
// raw buffers of blocked activations: kLanes channels per block (16 with AVX-512, 8 with
// AVX2). The caller owns the threading (ranges of tiles, of weight blocks) and the buffers.
// Plain data only, like kernel_table.h: the ISA builds see it.
#pragma once

#include <cstdint>

namespace torchfit::kernels {

// A stride-1 3x3 convolution: x (n, ic / lanes, ih, iw, lanes) -> y (n, oc / lanes, oh, ow,
// lanes), output pixel (oy, ox) reading input rows oy - pad_top .. + 2 and columns
// ox - pad_left .. + 2 (zeros outside). ic and oc are multiples of the lanes.
struct WinogradShape {
  int64_t n, ic, ih, iw, oc, oh, ow, pad_top, pad_left;
};

// Tiles are processed this many at a time (the GEMM's row count per weight load).
constexpr int kChunk = 32;

// G, the weight transform of F(4x4, 3x3) with the interpolation points 0, -1, 1, 1/2, -2 and
// infinity (winograd_impl.h says why these): U = G g G^T, and the weight gradient's way back
// is dg = G^T dU G.
inline constexpr float kWinogradG[6][3] = {{1.f, 0.f, 0.f},
                                           {-1.f / 3, 1.f / 3, -1.f / 3},
                                           {1.f / 3, 1.f / 3, 1.f / 3},
                                           {-16.f / 15, -8.f / 15, -4.f / 15},
                                           {1.f / 15, -2.f / 15, 4.f / 15},
                                           {0.f, 0.f, 1.f}};

struct WinogradTable {
  const char* isa;
  int64_t lanes;
  // Output tiles [tile0, tile1) in image-major, row-major order, each 4x4 output pixels:
  // y = relu?(conv(x) + bias + residual), bias (oc) and residual (y's layout) optional (null).
  // u: (oc / lanes, 36, ic, lanes), the transformed weights; scratch: kChunk * 36 * (ic + oc) floats.
  void (*convolve_tiles)(const WinogradShape& s, const float* x, const float* u, const float* bias,
                         const float* residual, bool relu, int64_t tile0, int64_t tile1, float* scratch, float* y);
  // u (out / lanes, 36, in, lanes) for output blocks [ob0, ob1) from 3x3 weights: w (out, in,
  // 3, 3), or with `flip` w (in, out, 3, 3) flipped in both directions (the input gradient's).
  void (*transform_weights)(const float* w, int64_t out, int64_t in, bool flip, int64_t ob0, int64_t ob1, float* u);
  // The weight gradient in the Winograd domain for output tiles [tile0, tile1): du (36, oc, ic)
  // += sum over the tiles of (A dY A^T)[pos][o] * (B^T d B)[pos][i], d the tile's input window,
  // and db (oc) += the tiles' output gradients. scratch: kChunk * 36 * (ic + oc) floats.
  void (*weight_gradient_tiles)(const WinogradShape& s, const float* x, const float* dy, int64_t tile0, int64_t tile1,
                                float* scratch, float* du, float* db);
};

const WinogradTable* winograd_avx512_table();  // nullptr where not built
const WinogradTable* winograd_avx2_table();    // nullptr where not built

}  // namespace torchfit::kernels
