// The engine's BatchNorm loops for training (batch_norm_train.cc), on raw buffers of blocked
// activations: `pixels` consecutive pixels of one channel block, each `block` lanes wide (8 or
// 16, one lane per channel). The caller owns the threading and sums the per-call partial
// results in a fixed order. Two builds of the same source (bn_blocked_impl.h): AVX2+FMA and
// portable, both without floating-point contraction, so the ReLU mask a backward pass
// recomputes from x matches its forward pass bit for bit.
#pragma once

#include <cstdint>

namespace torchfit::kernels {

struct BnBlockedTable {
  const char* isa;
  // sum[l] += sum_p (x - shift[l]), sq[l] += sum_p (x - shift[l])^2 (shifted: no cancellation
  // when the mean is large against the spread).
  void (*stats)(const float* x, int64_t pixels, int64_t block, const float* shift, double* sum, double* sq);
  // y = x * scale + shift, then max(y, 0) when relu.
  void (*apply)(const float* x, int64_t pixels, int64_t block, const float* scale, const float* shift, bool relu,
                float* y);
  // With dy' = dy where (not relu or x * scale + shift > 0), else 0:
  // sum_dy[l] += sum dy', sum_dyx[l] += sum dy' * (x - mean[l]).
  void (*grad_stats)(const float* x, const float* dy, int64_t pixels, int64_t block, const float* mean,
                     const float* scale, const float* shift, bool relu, double* sum_dy, double* sum_dyx);
  // dx = ka * dy' + kb * (x - mean) + kc, plus r when r is not null, then 0 where x <= 0 when
  // mask_input (x being a ReLU's output, whose backward this is). dx may alias dy or r.
  void (*grad_apply)(const float* x, const float* dy, const float* r, int64_t pixels, int64_t block,
                     const float* mean, const float* scale, const float* shift, bool relu, const float* ka,
                     const float* kb, const float* kc, bool mask_input, float* dx);
};

// The AVX2 build where the fused kernels run it (kernel_table.h's choice, tests' forcing
// included), else the portable one.
const BnBlockedTable& bn_blocked_kernels();
const BnBlockedTable& bn_blocked_generic_table();
const BnBlockedTable* bn_blocked_avx2_table();  // nullptr where not built

}  // namespace torchfit::kernels
