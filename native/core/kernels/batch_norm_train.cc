#include "core/kernels/batch_norm_train.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <cmath>
#include <vector>

#include "core/kernels/bn_blocked_table.h"

namespace torchfit::kernels {
namespace {

struct Layout {
  int64_t n, blocks, pixels, block;  // pixels: H * W of one plane
  int64_t items() const { return n * blocks; }
  int64_t lanes() const { return blocks * block; }
  // Item i = (image, channel block), in memory order.
  int64_t offset(int64_t item) const { return item * pixels * block; }
  int64_t block_of(int64_t item) const { return item % blocks; }
};

Layout layout_of(const torch::Tensor& x) { return {x.size(0), x.size(1), x.size(2) * x.size(3), x.size(4)}; }

// A per-lane copy of a per-channel tensor, zero past its channels.
std::vector<float> lanes_of(const torch::Tensor& t, int64_t lanes) {
  std::vector<float> out(lanes, 0.f);
  const auto c = t.contiguous();
  const auto* p = c.data_ptr<float>();
  for (int64_t i = 0; i < c.numel() && i < lanes; ++i) out[i] = p[i];
  return out;
}

// Two per-lane double sums over the whole tensor, split into one piece per thread and added
// piece by piece in order (deterministic for a thread count). `body(item, sum_a, sum_b)` adds
// one item's partials at its block's lanes.
template <typename Body>
std::pair<std::vector<double>, std::vector<double>> reduce(const Layout& L, const Body& body) {
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), L.items()));
  std::vector<double> a(pieces * L.lanes(), 0.0), b(pieces * L.lanes(), 0.0);
  at::parallel_for(0, pieces, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t i0 = L.items() * p / pieces, i1 = L.items() * (p + 1) / pieces;
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t lane0 = L.block_of(i) * L.block;
        body(i, a.data() + p * L.lanes() + lane0, b.data() + p * L.lanes() + lane0);
      }
    }
  });
  std::vector<double> sa(L.lanes(), 0.0), sb(L.lanes(), 0.0);
  for (int64_t p = 0; p < pieces; ++p) {
    for (int64_t l = 0; l < L.lanes(); ++l) {
      sa[l] += a[p * L.lanes() + l];
      sb[l] += b[p * L.lanes() + l];
    }
  }
  return {sa, sb};
}

// Elementwise passes: items in parallel, a few hundred thousand floats per task at least.
template <typename Body>
void for_items(const Layout& L, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, L.pixels * L.block));
  at::parallel_for(0, L.items(), grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) body(i);
  });
}

}  // namespace

BnTrainSaved bn_train_forward(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                              double eps, bool relu, const torch::Tensor& y) {
  RECORD_FUNCTION("torchfit::batch_norm_blocked", std::vector<c10::IValue>({x}));
  const auto& k = bn_blocked_kernels();
  const auto L = layout_of(x);
  const int64_t channels = gamma.size(0);
  const auto* xp = x.data_ptr<float>();
  // The shift: each channel's first value (a value of the data keeps the sums' cancellation small).
  std::vector<float> first(L.lanes());
  for (int64_t l = 0; l < L.lanes(); ++l) first[l] = xp[L.offset(l / L.block) + l % L.block];
  const auto [sum, sq] = reduce(L, [&](int64_t i, double* s, double* q) {
    k.stats(xp + L.offset(i), L.pixels, L.block, first.data() + L.block_of(i) * L.block, s, q);
  });

  const double count = static_cast<double>(L.n * L.pixels);
  const auto g = lanes_of(gamma, L.lanes()), b = lanes_of(beta, L.lanes());
  BnTrainSaved saved{torch::zeros({4, L.lanes()}, torch::kFloat32)};
  auto* mean = saved.lanes.data_ptr<float>();
  auto* rstd = mean + L.lanes();
  auto* scale = rstd + L.lanes();
  auto* shift = scale + L.lanes();
  auto* rm = running_mean.data_ptr<float>();
  auto* rv = running_var.data_ptr<float>();
  for (int64_t l = 0; l < channels; ++l) {
    const double d = sum[l] / count;
    const double m = first[l] + d;
    const double var = std::max(sq[l] / count - d * d, 0.0);
    const double r = 1.0 / std::sqrt(var + eps);
    mean[l] = static_cast<float>(m);
    rstd[l] = static_cast<float>(r);
    scale[l] = static_cast<float>(g[l] * r);
    shift[l] = static_cast<float>(b[l] - m * g[l] * r);
    rm[l] = static_cast<float>(momentum * m + (1 - momentum) * rm[l]);
    rv[l] = static_cast<float>(momentum * (var * count / (count - 1)) + (1 - momentum) * rv[l]);
  }
  auto* yp = y.data_ptr<float>();
  for_items(L, [&](int64_t i) {
    const int64_t lane0 = L.block_of(i) * L.block;
    k.apply(xp + L.offset(i), L.pixels, L.block, scale + lane0, shift + lane0, relu, yp + L.offset(i));
  });
  return saved;
}

BnTrainGrads bn_train_backward(const torch::Tensor& x, const torch::Tensor& dy, const BnTrainSaved& saved,
                               const torch::Tensor& gamma, bool relu, const torch::Tensor& residual, bool mask_input,
                               const torch::Tensor& dx) {
  RECORD_FUNCTION("torchfit::batch_norm_blocked_backward", std::vector<c10::IValue>({x}));
  const auto& k = bn_blocked_kernels();
  const auto L = layout_of(x);
  const int64_t channels = gamma.size(0);
  const auto* xp = x.data_ptr<float>();
  const auto* gp = dy.data_ptr<float>();
  const auto* mean = saved.lanes.data_ptr<float>();
  const auto* rstd = mean + L.lanes();
  const auto* scale = rstd + L.lanes();
  const auto* shift = scale + L.lanes();
  const auto [sum_dy, sum_dyx] = reduce(L, [&](int64_t i, double* s, double* q) {
    const int64_t lane0 = L.block_of(i) * L.block;
    k.grad_stats(xp + L.offset(i), gp + L.offset(i), L.pixels, L.block, mean + lane0, scale + lane0, shift + lane0,
                 relu, s, q);
  });

  const double count = static_cast<double>(L.n * L.pixels);
  const auto g = lanes_of(gamma, L.lanes());
  std::vector<float> ka(L.lanes(), 0.f), kb(L.lanes(), 0.f), kc(L.lanes(), 0.f);
  BnTrainGrads out{torch::empty({channels}, torch::kFloat32), torch::empty({channels}, torch::kFloat32)};
  auto* dgamma = out.dgamma.data_ptr<float>();
  auto* dbeta = out.dbeta.data_ptr<float>();
  for (int64_t l = 0; l < channels; ++l) {
    const double r = rstd[l];
    dgamma[l] = static_cast<float>(sum_dyx[l] * r);
    dbeta[l] = static_cast<float>(sum_dy[l]);
    ka[l] = static_cast<float>(g[l] * r);
    kb[l] = static_cast<float>(-g[l] * r * r * r * sum_dyx[l] / count);
    kc[l] = static_cast<float>(-g[l] * r * sum_dy[l] / count);
  }
  const auto* rp = residual.defined() ? residual.data_ptr<float>() : nullptr;
  auto* dxp = dx.data_ptr<float>();
  for_items(L, [&](int64_t i) {
    const int64_t lane0 = L.block_of(i) * L.block, o = L.offset(i);
    k.grad_apply(xp + o, gp + o, rp != nullptr ? rp + o : nullptr, L.pixels, L.block, mean + lane0, scale + lane0,
                 shift + lane0, relu, ka.data() + lane0, kb.data() + lane0, kc.data() + lane0, mask_input, dxp + o);
  });
  return out;
}

}  // namespace torchfit::kernels
