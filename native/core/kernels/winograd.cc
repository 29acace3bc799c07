#include "core/kernels/winograd.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/kernels/buffer_pool.h"
#include "core/kernels/engine.h"
#include "core/kernels/kernel_table.h"
#include "core/kernels/winograd_table.h"

namespace torchfit::kernels::winograd {
namespace {

const WinogradTable* table() {
#if defined(__x86_64__) || defined(__i386__)
  static const WinogradTable* avx512 = __builtin_cpu_supports("avx512f") ? winograd_avx512_table() : nullptr;
  // dispatch.cc's probe: AVX2+FMA on this CPU and in this build.
  static const WinogradTable* avx2 = avx2_kernels() != nullptr ? winograd_avx2_table() : nullptr;
  const int64_t lanes = engine_block();
  if (avx512 != nullptr && lanes == avx512->lanes) return avx512;
  if (avx2 != nullptr && lanes == avx2->lanes) return avx2;
#endif
  return nullptr;
}

// The transformed weights of the forward convolution, or with `flip` of its input gradient's.
torch::Tensor transform_weights(const WinogradTable& k, const torch::Tensor& weight, bool flip) {
  const auto w = weight.contiguous();
  const int64_t out = flip ? w.size(1) : w.size(0), in = flip ? w.size(0) : w.size(1);
  // Recycled: a fresh 0.6 MB block (64 channels) for every call page-faulted 150 times.
  auto u = recycled_empty({out / k.lanes, 36, in, k.lanes});
  const float* src = w.data_ptr<float>();
  float* dst = u.data_ptr<float>();
  at::parallel_for(0, out / k.lanes, 1, [&](int64_t ob0, int64_t ob1) {
    k.transform_weights(src, out, in, flip, ob0, ob1, dst);
  });
  return u;
}

// Tiles in chunks across the threads; each tile is one thread's, so the bits do not depend
// on the thread count.
void run(const WinogradTable& k, const WinogradShape& s, const float* x, const float* u, const float* bias,
         const float* residual, bool relu, float* y) {
  const int64_t tiles = s.n * ((s.oh + 3) / 4) * ((s.ow + 3) / 4);
  const int64_t chunks = (tiles + kChunk - 1) / kChunk;
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(kChunk * 36 * (s.ic + s.oc)));
    k.convolve_tiles(s, x, u, bias, residual, relu, c0 * kChunk, std::min(tiles, c1 * kChunk), scratch.data(), y);
  });
}

// dw (oc, ic, 3, 3) = G^T du G per channel pair, du (36, oc, ic): the weight gradient back
// from the Winograd domain.
void weights_from_winograd(const float* du, int64_t oc, int64_t ic, float* dw) {
  const auto& G = kWinogradG;
  at::parallel_for(0, oc, 1, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      for (int64_t i = 0; i < ic; ++i) {
        float t[3][6];  // G^T du: for each kernel row r, six columns
        for (int r = 0; r < 3; ++r) {
          for (int b = 0; b < 6; ++b) {
            float sum = 0;
            for (int a = 0; a < 6; ++a) sum += G[a][r] * du[((a * 6 + b) * oc + o) * ic + i];
            t[r][b] = sum;
          }
        }
        float* out = dw + (o * ic + i) * 9;
        for (int r = 0; r < 3; ++r) {
          for (int c = 0; c < 3; ++c) {
            float sum = 0;
            for (int b = 0; b < 6; ++b) sum += t[r][b] * G[b][c];
            out[r * 3 + c] = sum;
          }
        }
      }
    }
  });
}

}  // namespace

bool available() { return table() != nullptr; }

torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                      const torch::Tensor& residual, bool relu, int64_t oh, int64_t ow, int64_t pad_top,
                      int64_t pad_left) {
  RECORD_FUNCTION("torchfit::winograd_forward", std::vector<c10::IValue>({x}));
  const auto* k = table();
  TORCH_CHECK(k != nullptr, "winograd: no build for this CPU and block");
  const int64_t lanes = k->lanes, oc = weight.size(0);
  const WinogradShape s{x.size(0), weight.size(1), x.size(2), x.size(3), oc, oh, ow, pad_top, pad_left};
  const auto u = transform_weights(*k, weight, false);
  auto y = recycled_empty({s.n, oc / lanes, oh, ow, lanes});
  run(*k, s, x.data_ptr<float>(), u.data_ptr<float>(), bias.defined() ? bias.data_ptr<float>() : nullptr,
      residual.defined() ? residual.data_ptr<float>() : nullptr, relu, y.data_ptr<float>());
  return y;
}

torch::Tensor backward_data(const torch::Tensor& dy, const torch::Tensor& weight, int64_t ih, int64_t iw,
                            int64_t pad_top, int64_t pad_left) {
  RECORD_FUNCTION("torchfit::winograd_backward_data", std::vector<c10::IValue>({dy}));
  const auto* k = table();
  TORCH_CHECK(k != nullptr, "winograd: no build for this CPU and block");
  const int64_t lanes = k->lanes, ic = weight.size(1);
  // dx(iy, ix) = sum over taps of dy(iy + pad_top - ky, ...) * w(ky, ...): a correlation of dy
  // with the flipped kernel, dy padded by 2 - pad_top rows before.
  const WinogradShape s{dy.size(0), weight.size(0), dy.size(2), dy.size(3), ic, ih, iw, 2 - pad_top, 2 - pad_left};
  const auto u = transform_weights(*k, weight, true);
  auto dx = recycled_empty({s.n, ic / lanes, ih, iw, lanes});
  run(*k, s, dy.data_ptr<float>(), u.data_ptr<float>(), nullptr, nullptr, false, dx.data_ptr<float>());
  return dx;
}

std::pair<torch::Tensor, torch::Tensor> backward_weights(const torch::Tensor& x, const torch::Tensor& dy, int64_t ic,
                                                         int64_t oc, int64_t pad_top, int64_t pad_left) {
  RECORD_FUNCTION("torchfit::winograd_backward_weights", std::vector<c10::IValue>({dy}));
  const auto* k = table();
  TORCH_CHECK(k != nullptr, "winograd: no build for this CPU and block");
  const WinogradShape s{x.size(0), ic, x.size(2), x.size(3), oc, dy.size(2), dy.size(3), pad_top, pad_left};
  const int64_t tiles = s.n * ((s.oh + 3) / 4) * ((s.ow + 3) / 4);
  // One partial sum per part, the parts fixed by the thread count and added in order: the
  // same bits for a given thread count. Each part: du (36, oc, ic), then db (oc).
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (tiles + kChunk - 1) / kChunk));
  const int64_t part_floats = 36 * oc * ic + oc;
  auto partial = recycled_empty({parts, part_floats});  // zeroed by each part (fresh zeros page-faulted)
  float* sums = partial.data_ptr<float>();
  const float* xp = x.data_ptr<float>();
  const float* dyp = dy.data_ptr<float>();
  at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(kChunk * 36 * (ic + oc)));
    for (int64_t part = p0; part < p1; ++part) {
      float* mine = sums + part * part_floats;
      std::memset(mine, 0, static_cast<size_t>(part_floats) * sizeof(float));
      k->weight_gradient_tiles(s, xp, dyp, tiles * part / parts, tiles * (part + 1) / parts, scratch.data(), mine,
                               mine + 36 * oc * ic);
    }
  });
  auto total = partial[0];
  for (int64_t part = 1; part < parts; ++part) total.add_(partial[part]);
  auto dw = torch::empty({oc, ic, 3, 3}, torch::kFloat32);
  weights_from_winograd(total.data_ptr<float>(), oc, ic, dw.data_ptr<float>());
  return {dw, total.narrow(0, 36 * oc * ic, oc).clone()};
}

}  // namespace torchfit::kernels::winograd
