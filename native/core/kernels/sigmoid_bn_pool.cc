#include "core/kernels/sigmoid_bn_pool.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <cmath>
#include <torch/autograd.h>
#include <vector>

#include "core/kernels/kernel_table.h"

namespace torchfit::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Shape {
  int64_t n, c, h, w;
  int64_t plane() const { return h * w; }
  int64_t pooled() const { return (h / 2) * (w / 2); }
};

Shape shape_of(const torch::Tensor& z) { return {z.size(0), z.size(1), z.size(2), z.size(3)}; }

torch::Tensor pooled_empty(const Shape& s, const torch::Tensor& like, torch::ScalarType dtype) {
  return torch::empty({s.n, s.c, s.h / 2, s.w / 2}, like.options().dtype(dtype));
}

// Inference: the normalisation uses the running statistics, nothing is saved.
torch::Tensor forward_inference(const torch::Tensor& z, const torch::Tensor& weight, const torch::Tensor& bias,
                                const torch::Tensor& running_mean, const torch::Tensor& running_var, double eps) {
  RECORD_FUNCTION("torchfit::sigmoid_bn_pool_inference", std::vector<c10::IValue>({z}));
  const auto s = shape_of(z);
  const PlaneGeometry g{s.h, s.w};
  std::vector<float> alpha(s.c), shift(s.c);
  const float* gamma = weight.data_ptr<float>();
  const float* beta = bias.data_ptr<float>();
  const float* rm = running_mean.data_ptr<float>();
  const float* rv = running_var.data_ptr<float>();
  for (int64_t c = 0; c < s.c; ++c) {
    const double a = gamma[c] / std::sqrt(static_cast<double>(rv[c]) + eps);
    alpha[c] = static_cast<float>(a);
    shift[c] = static_cast<float>(beta[c] - rm[c] * a);
  }
  auto out = pooled_empty(s, z, torch::kFloat32);
  const auto& k = kernels();
  const float* zp = z.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> plane(s.h * plane_stride(g));
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t c = 0; c < s.c; ++c) {
        const int64_t p = i * s.c + c;
        k.sigmoid_plane(zp + p * s.plane(), g, plane.data(), nullptr, nullptr);
        k.bn_pool_plane(plane.data(), g, alpha[c], shift[c], op + p * s.pooled(), nullptr, nullptr);
      }
    }
  });
  return out;
}

class SigmoidBnPool : public torch::autograd::Function<SigmoidBnPool> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& z, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps) {
    RECORD_FUNCTION("torchfit::sigmoid_bn_pool", std::vector<c10::IValue>({z}));
    const auto s = shape_of(z);
    const PlaneGeometry g{s.h, s.w};
    const int64_t st = plane_stride(g);
    const auto& k = kernels();

    // Pass 1: the sigmoid (kept for backward, rows padded to the plane stride) and each
    // plane's sum and squared deviations.
    auto sig = torch::empty({s.n, s.c, s.h, st}, z.options());
    std::vector<double> sums(s.n * s.c), m2s(s.n * s.c);
    const float* zp = z.data_ptr<float>();
    float* sp = sig.data_ptr<float>();
    at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t c = 0; c < s.c; ++c) {
          const int64_t p = i * s.c + c;
          k.sigmoid_plane(zp + p * s.plane(), g, sp + p * s.h * st, &sums[p], &m2s[p]);
        }
      }
    });

    // Batch statistics per channel: planes combined in image order (Chan et al.'s formula),
    // the variance in double as ATen accumulates it.
    const double m = static_cast<double>(s.plane()), total = m * static_cast<double>(s.n);
    auto mean = torch::empty({s.c}, z.options());
    auto invstd = torch::empty({s.c}, z.options());
    std::vector<float> alpha(s.c), shift(s.c);
    {
      torch::NoGradGuard no_grad;
      float* rm = running_mean.data_ptr<float>();
      float* rv = running_var.data_ptr<float>();
      const float* gamma = weight.data_ptr<float>();
      const float* beta = bias.data_ptr<float>();
      for (int64_t c = 0; c < s.c; ++c) {
        double sum = 0;
        for (int64_t i = 0; i < s.n; ++i) sum += sums[i * s.c + c];
        const double mu = sum / total;
        double m2 = 0;
        for (int64_t i = 0; i < s.n; ++i) {
          const double d = sums[i * s.c + c] / m - mu;
          m2 += m2s[i * s.c + c] + m * d * d;
        }
        const double is = 1.0 / std::sqrt(m2 / total + eps);
        mean.data_ptr<float>()[c] = static_cast<float>(mu);
        invstd.data_ptr<float>()[c] = static_cast<float>(is);
        const double a = static_cast<double>(gamma[c]) * is;
        alpha[c] = static_cast<float>(a);
        shift[c] = static_cast<float>(beta[c] - mu * a);
        rm[c] = static_cast<float>(momentum * mu + (1 - momentum) * rm[c]);
        rv[c] = static_cast<float>(momentum * (m2 / (total - 1)) + (1 - momentum) * rv[c]);
      }
    }

    // Pass 2: normalise and pool; keep each window's argmax and its sigmoid value.
    auto out = pooled_empty(s, z, torch::kFloat32);
    auto idx = pooled_empty(s, z, torch::kUInt8);
    auto s_at = pooled_empty(s, z, torch::kFloat32);
    float* op = out.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    float* ap = s_at.data_ptr<float>();
    at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t c = 0; c < s.c; ++c) {
          const int64_t p = i * s.c + c;
          k.bn_pool_plane(sp + p * s.h * st, g, alpha[c], shift[c], op + p * s.pooled(), ip + p * s.pooled(),
                          ap + p * s.pooled());
        }
      }
    });
    ctx->save_for_backward({weight});
    ctx->saved_data["sig"] = sig;
    ctx->saved_data["idx"] = idx;
    ctx->saved_data["s_at"] = s_at;
    ctx->saved_data["mean"] = mean;
    ctx->saved_data["invstd"] = invstd;
    ctx->saved_data["width"] = s.w;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::sigmoid_bn_pool_backward", std::vector<c10::IValue>());
    const auto weight = ctx->get_saved_variables()[0];
    const auto sig = ctx->saved_data["sig"].toTensor();
    const auto idx = ctx->saved_data["idx"].toTensor();
    const auto s_at = ctx->saved_data["s_at"].toTensor();
    const auto mean = ctx->saved_data["mean"].toTensor();
    const auto invstd = ctx->saved_data["invstd"].toTensor();
    const auto dpooled = grads[0].contiguous();
    const Shape shape{sig.size(0), sig.size(1), sig.size(2), ctx->saved_data["width"].toInt()};
    const PlaneGeometry g{shape.h, shape.w};
    const int64_t st = plane_stride(g), pooled = shape.pooled();
    const auto& k = kernels();

    // BatchNorm's dbeta = sum(dy) and dgamma = sum(dy * xhat): dy is non-zero only at the
    // window maxima, so the pooled gradient and the saved s_at suffice.
    const float* dp = dpooled.data_ptr<float>();
    const float* ap = s_at.data_ptr<float>();
    const float* mp = mean.data_ptr<float>();
    const float* isp = invstd.data_ptr<float>();
    std::vector<double> dbeta_parts(shape.n * shape.c), dgamma_parts(shape.n * shape.c);
    at::parallel_for(0, shape.n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t c = 0; c < shape.c; ++c) {
          const int64_t p = i * shape.c + c;
          double db = 0, dg = 0;
          for (int64_t j = 0; j < pooled; ++j) {
            const double d = dp[p * pooled + j];
            db += d;
            dg += d * (static_cast<double>(ap[p * pooled + j]) - mp[c]);
          }
          dbeta_parts[p] = db;
          dgamma_parts[p] = dg * isp[c];
        }
      }
    });
    auto dgamma = torch::empty({shape.c}, sig.options());
    auto dbeta = torch::empty({shape.c}, sig.options());
    const double total = static_cast<double>(shape.n * shape.plane());
    std::vector<float> a(shape.c), b(shape.c), cst(shape.c);
    const float* gamma = weight.data_ptr<float>();
    for (int64_t c = 0; c < shape.c; ++c) {
      double db = 0, dg = 0;
      for (int64_t i = 0; i < shape.n; ++i) {
        db += dbeta_parts[i * shape.c + c];
        dg += dgamma_parts[i * shape.c + c];
      }
      dbeta.data_ptr<float>()[c] = static_cast<float>(db);
      dgamma.data_ptr<float>()[c] = static_cast<float>(dg);
      // dx = gamma*invstd * (dy - dbeta/M - xhat * dgamma/M), xhat = (s - mean) * invstd.
      const double scale = static_cast<double>(gamma[c]) * isp[c];
      a[c] = static_cast<float>(scale);
      b[c] = static_cast<float>(-scale * isp[c] * dg / total);
      cst[c] = static_cast<float>(-scale * db / total);
    }

    torch::Tensor dz;
    if (ctx->needs_input_grad(0)) {
      dz = torch::empty({shape.n, shape.c, shape.h, shape.w}, sig.options());
      const float* sp = sig.data_ptr<float>();
      const uint8_t* ip = idx.data_ptr<uint8_t>();
      float* zp = dz.data_ptr<float>();
      at::parallel_for(0, shape.n, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> dy(shape.h * st);
        for (int64_t i = begin; i < end; ++i) {
          for (int64_t c = 0; c < shape.c; ++c) {
            const int64_t p = i * shape.c + c;
            k.sigmoid_bn_pool_backward(sp + p * shape.h * st, dp + p * pooled, ip + p * pooled, g, a[c], b[c], cst[c],
                                       mp[c], dy.data(), zp + p * shape.plane());
          }
        }
      });
    }
    return {dz, ctx->needs_input_grad(1) ? dgamma : torch::Tensor(), ctx->needs_input_grad(2) ? dbeta : torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool sigmoid_bn_pool_applies(const torch::Tensor& z, const torch::Tensor& weight) {
  return z.device().is_cpu() && z.scalar_type() == torch::kFloat32 && z.dim() == 4 && z.size(2) >= 2 &&
         z.size(3) >= 2 && weight.defined() && weight.scalar_type() == torch::kFloat32 && weight.numel() == z.size(1);
}

torch::Tensor sigmoid_bn_pool(const torch::Tensor& z, const torch::Tensor& weight, const torch::Tensor& bias,
                              const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                              double momentum, double eps) {
  const auto input = z.contiguous();
  if (training) return SigmoidBnPool::apply(input, weight, bias, running_mean, running_var, momentum, eps);
  const bool graph = torch::GradMode::is_enabled() && (z.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!graph) return forward_inference(input, weight, bias, running_mean, running_var, eps);
  // Inference statistics with a graph (no caller of ours does this): libtorch's ops.
  return torch::max_pool2d(torch::batch_norm(torch::sigmoid(z), weight, bias, running_mean, running_var, false,
                                             momentum, eps, true),
                           2);
}

}  // namespace torchfit::kernels
