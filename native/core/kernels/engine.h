// The convolution engine: oneDNN's primitives driven on activations kept in one blocked
// layout from the first convolution to the last (docs/kernels.md). This header is the
// engine's public face for models: whether it is in, and its layout. The ops live in
// conv_blocked.h and batch_norm_blocked.h; the oneDNN plumbing in onednn.h.
//
// A blocked activation is a float32 CPU tensor of shape (N, ceil(C / B), H, W, B): channel c
// of pixel (h, w) sits at [n][c / B][h][w][c % B], the B lanes a vector register holds (B = 16
// with AVX-512, 8 with AVX2). Lanes past C are zero. The tensor does not record C: every op
// takes it from its own parameters (a convolution's weight, a BatchNorm's scale).
#pragma once

#include <string>
#include <torch/types.h>

namespace torchfit::kernels {

// Whether this build has the engine and this CPU and process can run it (the oneDNN found at
// run time is the one the build was compiled against).
bool engine_available();
// Channels per block (16 or 8; 0 when the engine is unavailable).
int64_t engine_block();
// For info(): "onednn 2.6.3 avx512 (nChw16c)", or why the engine is not in ("off: ...").
std::string engine_description();
// (Tests run the AVX2 code on AVX-512 CPUs in a process started with ONEDNN_MAX_CPU_ISA=AVX2:
// oneDNN fixes its instruction set once per process.)

// NCHW float32 -> blocked, and back (autograd Functions: their gradients are the reverse reorders).
torch::Tensor to_blocked(const torch::Tensor& x);
torch::Tensor from_blocked(const torch::Tensor& x, int64_t channels);

// Whether t is a blocked activation of this engine (5-d, last dimension the block).
bool is_blocked(const torch::Tensor& t);

}  // namespace torchfit::kernels
