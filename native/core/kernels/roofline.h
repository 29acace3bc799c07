// Measurements for scripts/bench/roofline.mjs: this CPU's float32 FMA peak, measured with a small
// loop of independent fused multiply-adds (never assumed from a data sheet), and the time one
// convolution layer takes forward and backward on the engine and on libtorch's own path.
#pragma once

#include <cstdint>
#include <string>

namespace torchfit::kernels {

struct PeakResult {
  double gflops = 0;  // float32 FLOP per second / 1e9, all threads together
  std::string isa;    // "avx512", "avx2" or "scalar": the widest vector the loop used
  int threads = 1;
};

// `threads` threads each run `seconds` of 12 independent FMA chains of the widest vector width
// the CPU has (or of `isa` when given: "avx2", "avx512").
PeakResult measure_fma_peak(int threads, double seconds, const std::string& isa = "");

struct ConvLayerSpec {
  int64_t batch = 128, in_channels = 16, out_channels = 16, height = 28, width = 28, kernel = 3, stride = 1;
  bool same = true;
  std::string path = "engine";  // "engine" (blocked, oneDNN) or "libtorch" (NCHW conv2d + convolution_backward)
  int reps = 10;
  int threads = 0;
  bool input_grad = true;
};

struct ConvLayerTiming {
  double forward_ms = 0, backward_ms = 0;  // medians; backward: input and weight gradients together
  double forward_gflop = 0, backward_gflop = 0;  // the backward does twice the forward's work (once without input_grad)
};

ConvLayerTiming time_conv_layer(const ConvLayerSpec& spec);

}  // namespace torchfit::kernels
