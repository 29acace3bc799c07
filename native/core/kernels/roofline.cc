#include "core/kernels/roofline.h"

#include <ATen/Parallel.h>
#include <algorithm>
#include <chrono>
#include <torch/torch.h>
#include <exception>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "core/kernels/conv_blocked.h"
#include "core/kernels/engine.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace torchfit::kernels {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// 12 independent chains hide the FMA latency (4 cycles) behind two FMA ports; the loop
// overhead is one add and one branch per 12 FMAs. Returns FMAs done (per lane).
#if defined(__x86_64__)
__attribute__((target("avx512f"))) int64_t fma_loop_avx512(double seconds, float* sink) {
  __m512 acc[12];
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  int64_t n = 0;
  const auto start = Clock::now();
  do {
    for (int k = 0; k < 4096; ++k) {
#pragma GCC unroll 12
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    n += 4096 * 12;
  } while (seconds_since(start) < seconds);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  *sink = lanes[0];
  return n * 16;
}

__attribute__((target("avx2,fma"))) int64_t fma_loop_avx2(double seconds, float* sink) {
  __m256 acc[12];
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  int64_t n = 0;
  const auto start = Clock::now();
  do {
    for (int k = 0; k < 4096; ++k) {
#pragma GCC unroll 12
      for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    n += 4096 * 12;
  } while (seconds_since(start) < seconds);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  *sink = lanes[0];
  return n * 8;
}
#endif

int64_t fma_loop_scalar(double seconds, float* sink) {
  float acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = static_cast<float>(i);
  int64_t n = 0;
  const auto start = Clock::now();
  do {
    for (int k = 0; k < 4096; ++k) {
      for (int i = 0; i < 12; ++i) acc[i] = acc[i] * 0.999f + 1e-3f;
    }
    n += 4096 * 12;
  } while (seconds_since(start) < seconds);
  *sink = acc[0] + acc[11];
  return n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

template <class F>
double median_ms(int reps, F&& f) {
  f();  // warm-up: primitive creation, first-touch of buffers
  std::vector<double> times;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    const auto start = Clock::now();
    f();
    times.push_back(seconds_since(start) * 1e3);
  }
  return median(times);
}

}  // namespace

PeakResult measure_fma_peak(int threads, double seconds, const std::string& isa) {
  PeakResult r;
  r.threads = std::max(threads, 1);
  int64_t (*loop)(double, float*) = fma_loop_scalar;
  r.isa = "scalar";
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx512 && (isa.empty() || isa == "avx512")) {
    loop = fma_loop_avx512;
    r.isa = "avx512";
  } else if (avx2 && (isa.empty() || isa == "avx2" || isa == "avx512")) {
    loop = fma_loop_avx2;
    r.isa = "avx2";
  }
#endif
  std::vector<int64_t> fmas(r.threads, 0);
  std::vector<float> sinks(r.threads, 0);
  const auto start = Clock::now();
  // One OpenMP thread per chain runner, as the kernels run.
#pragma omp parallel for num_threads(r.threads) schedule(static, 1)
  for (int t = 0; t < r.threads; ++t) fmas[t] = loop(seconds, &sinks[t]);
  const double elapsed = seconds_since(start);
  int64_t total = 0;
  for (auto f : fmas) total += f;
  r.gflops = 2.0 * static_cast<double>(total) / elapsed / 1e9;
  return r;
}

namespace {

ConvLayerTiming time_conv_layer_here(const ConvLayerSpec& s) {
  const int saved_threads = at::get_num_threads();
  if (s.threads > 0) at::set_num_threads(s.threads);
  struct Restore {
    int n;
    ~Restore() { at::set_num_threads(n); }
  } restore{saved_threads};

  const auto [top, bottom] = keras_padding(s.height, s.kernel, s.stride, s.same);
  const auto [left, right] = keras_padding(s.width, s.kernel, s.stride, s.same);
  const int64_t oh = (s.height + top + bottom - s.kernel) / s.stride + 1;
  const int64_t ow = (s.width + left + right - s.kernel) / s.stride + 1;
  ConvLayerTiming t;
  t.forward_gflop = 2.0 * s.batch * s.out_channels * oh * ow * s.in_channels * s.kernel * s.kernel / 1e9;
  t.backward_gflop = t.forward_gflop * (s.input_grad ? 2 : 1);

  auto x = torch::randn({s.batch, s.in_channels, s.height, s.width});
  auto w = (torch::randn({s.out_channels, s.in_channels, s.kernel, s.kernel}) * 0.1).requires_grad_(true);
  auto b = torch::zeros({s.out_channels}).requires_grad_(true);
  const auto g = torch::randn({s.batch, s.out_channels, oh, ow});
  if (s.path == "engine") {
    if (!engine_available()) throw Error("ERR_INVALID_OPTION", "the convolution engine is " + engine_description());
    const ConvGeometry2d geo{s.stride, top, bottom, left, right, false};
    const auto xb = to_blocked(x).requires_grad_(s.input_grad);
    const auto gb = to_blocked(g);
    {
      torch::NoGradGuard no_grad;
      t.forward_ms = median_ms(s.reps, [&] { conv2d_blocked(xb, w, b, geo); });
    }
    const auto out = conv2d_blocked(xb, w, b, geo);
    std::vector<torch::Tensor> inputs{w, b};
    if (s.input_grad) inputs.push_back(xb);
    t.backward_ms = median_ms(s.reps, [&] { torch::autograd::grad({out}, inputs, {gb}, /*retain_graph=*/true); });
  } else if (s.path == "libtorch") {
    // As the plain models run it: TF's asymmetric padding as an explicit pad, then conv2d.
    x.requires_grad_(s.input_grad);
    auto forward = [&] {
      if (top == bottom && left == right) return torch::conv2d(x, w, b, s.stride, torch::IntArrayRef{top, left});
      return torch::conv2d(torch::constant_pad_nd(x, {left, right, top, bottom}, 0), w, b, s.stride);
    };
    {
      torch::NoGradGuard no_grad;
      t.forward_ms = median_ms(s.reps, [&] { forward(); });
    }
    const auto out = forward();
    std::vector<torch::Tensor> inputs{w, b};
    if (s.input_grad) inputs.push_back(x);
    t.backward_ms = median_ms(s.reps, [&] { torch::autograd::grad({out}, inputs, {g}, /*retain_graph=*/true); });
  } else {
    throw Error("ERR_INVALID_OPTION", "time_conv_layer: path must be 'engine' or 'libtorch', got '" + s.path + "'");
  }
  return t;
}

}  // namespace

ConvLayerTiming time_conv_layer(const ConvLayerSpec& s) {
  // On a thread of its own, as training runs (and as the step profiler times it): the main
  // thread's malloc arena and OpenMP team behave differently from a worker's.
  ConvLayerTiming out;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      out = time_conv_layer_here(s);
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace torchfit::kernels
