#include "core/kernels/bn_pool_stats.h"

#include <ATen/Parallel.h>
#include <cmath>

#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {

ChannelAffine batch_statistics(const std::vector<double>& sums, const std::vector<double>& m2s, int64_t n, int64_t c,
                               int64_t plane, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& running_mean, const torch::Tensor& running_var, double momentum,
                               double eps) {
  const double m = static_cast<double>(plane), total = m * static_cast<double>(n);
  ChannelAffine out{std::vector<float>(c), std::vector<float>(c), std::vector<float>(c), std::vector<float>(c)};
  const float* gamma = weight.data_ptr<float>();
  const float* beta = bias.data_ptr<float>();
  float* rm = running_mean.data_ptr<float>();
  float* rv = running_var.data_ptr<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += sums[i * c + ch];
    const double mu = sum / total;
    // Chan et al.: the batch's squared deviations from the planes' own.
    double m2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = sums[i * c + ch] / m - mu;
      m2 += m2s[i * c + ch] + m * d * d;
    }
    // As ATen: normalise with the biased variance, in double; the running variance gets the unbiased one.
    const double invstd = 1.0 / std::sqrt(m2 / total + eps);
    const double alpha = static_cast<double>(gamma[ch]) * invstd;
    out.mean[ch] = static_cast<float>(mu);
    out.invstd[ch] = static_cast<float>(invstd);
    out.alpha[ch] = static_cast<float>(alpha);
    out.shift[ch] = static_cast<float>(beta[ch] - mu * alpha);
    rm[ch] = static_cast<float>(momentum * mu + (1 - momentum) * rm[ch]);
    rv[ch] = static_cast<float>(momentum * (m2 / (total - 1)) + (1 - momentum) * rv[ch]);
  }
  return out;
}

ChannelAffine running_statistics(const torch::Tensor& weight, const torch::Tensor& bias,
                                 const torch::Tensor& running_mean, const torch::Tensor& running_var, double eps) {
  const int64_t c = weight.numel();
  ChannelAffine out{std::vector<float>(c), std::vector<float>(c), std::vector<float>(c), std::vector<float>(c)};
  const float* gamma = weight.data_ptr<float>();
  const float* beta = bias.data_ptr<float>();
  const float* rm = running_mean.data_ptr<float>();
  const float* rv = running_var.data_ptr<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(rv[ch]) + eps);
    const double alpha = static_cast<double>(gamma[ch]) * invstd;
    out.mean[ch] = rm[ch];
    out.invstd[ch] = static_cast<float>(invstd);
    out.alpha[ch] = static_cast<float>(alpha);
    out.shift[ch] = static_cast<float>(beta[ch] - rm[ch] * alpha);
  }
  return out;
}

std::vector<int> scale_signs(const torch::Tensor& weight) {
  const float* gamma = weight.data_ptr<float>();
  std::vector<int> out(weight.numel());
  for (size_t ch = 0; ch < out.size(); ++ch) out[ch] = (gamma[ch] > 0) - (gamma[ch] < 0);
  return out;
}

void pooled_output(const torch::Tensor& s_at, const ChannelAffine& affine, const torch::Tensor& out) {
  const int64_t n = s_at.size(0), c = s_at.size(1), pooled = s_at.numel() / (n * c);
  const float* in = s_at.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const auto& k = kernels();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t p = (i * c + ch) * pooled;
        k.scale_shift(in + p, pooled, affine.alpha[ch], affine.shift[ch], o + p);
      }
    }
  });
}

PoolBnGrads pool_bn_gradients(const torch::Tensor& dpooled, const torch::Tensor& s_at, const torch::Tensor& mean,
                              const torch::Tensor& invstd, const torch::Tensor& weight, int64_t plane) {
  const int64_t n = dpooled.size(0), c = dpooled.size(1), pooled = dpooled.numel() / (n * c);
  const float* dp = dpooled.data_ptr<float>();
  const float* ap = s_at.data_ptr<float>();
  const float* mp = mean.data_ptr<float>();
  const float* isp = invstd.data_ptr<float>();
  const float* gamma = weight.data_ptr<float>();
  // dbeta = sum(dy), dgamma = sum(dy * xhat): dy is non-zero only at the window winners, so
  // the pooled gradient and the winners' sigmoid suffice. Per-plane partial sums in double,
  // added in image order (the same result for any thread count).
  std::vector<double> dbeta_parts(n * c), dgamma_parts(n * c);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t p = i * c + ch;
        double db = 0, dg = 0;
        for (int64_t j = 0; j < pooled; ++j) {
          const double d = dp[p * pooled + j];
          db += d;
          dg += d * (static_cast<double>(ap[p * pooled + j]) - mp[ch]);
        }
        dbeta_parts[p] = db;
        dgamma_parts[p] = dg * isp[ch];
      }
    }
  });
  PoolBnGrads out{torch::empty({c}, dpooled.options()), torch::empty({c}, dpooled.options()), std::vector<float>(c),
                  std::vector<float>(c), std::vector<float>(c)};
  const double total = static_cast<double>(n * plane);
  for (int64_t ch = 0; ch < c; ++ch) {
    double db = 0, dg = 0;
    for (int64_t i = 0; i < n; ++i) {
      db += dbeta_parts[i * c + ch];
      dg += dgamma_parts[i * c + ch];
    }
    out.dbeta.data_ptr<float>()[ch] = static_cast<float>(db);
    out.dgamma.data_ptr<float>()[ch] = static_cast<float>(dg);
    // dx = gamma*invstd * (dy - dbeta/M - xhat * dgamma/M), xhat = (s - mean) * invstd.
    const double scale = static_cast<double>(gamma[ch]) * isp[ch];
    out.a[ch] = static_cast<float>(scale);
    out.b[ch] = static_cast<float>(-scale * isp[ch] * dg / total);
    out.c[ch] = static_cast<float>(-scale * db / total);
  }
  return out;
}

}  // namespace torchfit::kernels
