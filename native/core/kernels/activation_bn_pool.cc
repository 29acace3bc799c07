#include "core/kernels/activation_bn_pool.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>
#include <vector>

#include "core/kernels/bn_pool_stats.h"
#include "core/kernels/buffer_pool.h"
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
torch::Tensor forward_inference(const torch::Tensor& z, PoolActivation act, const torch::Tensor& weight,
                                const torch::Tensor& bias, const torch::Tensor& running_mean,
                                const torch::Tensor& running_var, double eps) {
  RECORD_FUNCTION("torchfit::activation_bn_pool_inference", std::vector<c10::IValue>({z}));
  const auto s = shape_of(z);
  const PlaneGeometry g{s.h, s.w};
  const auto affine = running_statistics(weight, bias, running_mean, running_var, eps);
  const auto signs = scale_signs(weight);
  auto s_at = pooled_empty(s, z, torch::kFloat32);
  const auto& k = kernels();
  const float* zp = z.data_ptr<float>();
  float* ap = s_at.data_ptr<float>();
  at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> plane(s.h * plane_stride(g));
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t c = 0; c < s.c; ++c) {
        const int64_t p = i * s.c + c;
        k.activation_pool_plane(zp + p * s.plane(), g, act, signs[c], plane.data(), nullptr, nullptr,
                                ap + p * s.pooled(), nullptr);
      }
    }
  });
  pooled_output(s_at, affine, s_at);  // in place
  return s_at;
}

class ActivationBnPool : public torch::autograd::Function<ActivationBnPool> {
 public:
  // act_code last: a non-tensor argument before the tensors would shift needs_input_grad's
  // indices (they count tensors) against backward's list (it counts every argument).
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& z, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps, int64_t act_code) {
    RECORD_FUNCTION("torchfit::activation_bn_pool", std::vector<c10::IValue>({z}));
    const auto act = static_cast<PoolActivation>(act_code);
    const auto s = shape_of(z);
    const PlaneGeometry g{s.h, s.w};
    const int64_t st = plane_stride(g);
    const auto& k = kernels();
    const auto signs = scale_signs(weight);

    // One pass: the activation (kept for backward, rows padded to the plane stride), each
    // plane's statistics, each window's winner.
    auto sig = recycled_empty({s.n, s.c, s.h, st});
    auto idx = pooled_empty(s, z, torch::kUInt8);
    auto s_at = pooled_empty(s, z, torch::kFloat32);
    std::vector<double> sums(s.n * s.c), m2s(s.n * s.c);
    const float* zp = z.data_ptr<float>();
    float* sp = sig.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    float* ap = s_at.data_ptr<float>();
    at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t c = 0; c < s.c; ++c) {
          const int64_t p = i * s.c + c;
          k.activation_pool_plane(zp + p * s.plane(), g, act, signs[c], sp + p * s.h * st, &sums[p], &m2s[p],
                                  ap + p * s.pooled(), ip + p * s.pooled());
        }
      }
    });
    const auto affine =
        batch_statistics(sums, m2s, s.n, s.c, s.plane(), weight, bias, running_mean, running_var, momentum, eps);
    auto out = pooled_empty(s, z, torch::kFloat32);
    pooled_output(s_at, affine, out);

    ctx->save_for_backward({weight});
    ctx->saved_data["sig"] = sig;
    ctx->saved_data["idx"] = idx;
    ctx->saved_data["s_at"] = s_at;
    ctx->saved_data["mean"] = torch::tensor(affine.mean);
    ctx->saved_data["invstd"] = torch::tensor(affine.invstd);
    ctx->saved_data["width"] = s.w;
    ctx->saved_data["act"] = act_code;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::activation_bn_pool_backward", std::vector<c10::IValue>());
    const auto act = static_cast<PoolActivation>(ctx->saved_data["act"].toInt());
    const auto weight = ctx->get_saved_variables()[0];
    const auto sig = ctx->saved_data["sig"].toTensor();
    const auto idx = ctx->saved_data["idx"].toTensor();
    const auto mean = ctx->saved_data["mean"].toTensor();
    const auto dpooled = grads[0].contiguous();
    const Shape s{sig.size(0), sig.size(1), sig.size(2), ctx->saved_data["width"].toInt()};
    const PlaneGeometry g{s.h, s.w};
    const int64_t st = plane_stride(g);
    const auto grads_bn = pool_bn_gradients(dpooled, ctx->saved_data["s_at"].toTensor(), mean,
                                            ctx->saved_data["invstd"].toTensor(), weight, s.plane());
    torch::Tensor dz;
    if (ctx->needs_input_grad(0)) {
      dz = recycled_empty({s.n, s.c, s.h, s.w});
      const auto& k = kernels();
      const float* sp = sig.data_ptr<float>();
      const float* dp = dpooled.data_ptr<float>();
      const uint8_t* ip = idx.data_ptr<uint8_t>();
      const float* mp = mean.data_ptr<float>();
      float* zp = dz.data_ptr<float>();
      at::parallel_for(0, s.n, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> dy(s.h * st);
        for (int64_t i = begin; i < end; ++i) {
          for (int64_t c = 0; c < s.c; ++c) {
            const int64_t p = i * s.c + c;
            k.activation_bn_pool_backward(sp + p * s.h * st, dp + p * s.pooled(), ip + p * s.pooled(), g, act,
                                          grads_bn.a[c], grads_bn.b[c], grads_bn.c[c], mp[c], dy.data(),
                                          zp + p * s.plane());
          }
        }
      });
    }
    return {dz,
            ctx->needs_input_grad(1) ? grads_bn.dgamma : torch::Tensor(),
            ctx->needs_input_grad(2) ? grads_bn.dbeta : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool activation_bn_pool_applies(const torch::Tensor& z, const torch::Tensor& weight) {
  return z.device().is_cpu() && z.scalar_type() == torch::kFloat32 && z.dim() == 4 && z.size(2) >= 2 &&
         z.size(3) >= 2 && weight.defined() && weight.scalar_type() == torch::kFloat32 && weight.numel() == z.size(1);
}

torch::Tensor activation_bn_pool(const torch::Tensor& z, PoolActivation act, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const torch::Tensor& running_mean,
                                 const torch::Tensor& running_var, bool training, double momentum, double eps) {
  const auto input = z.contiguous();
  const auto w = weight.contiguous(), b = bias.contiguous();
  if (training) {
    return ActivationBnPool::apply(input, w, b, running_mean, running_var, momentum, eps, static_cast<int64_t>(act));
  }
  const bool graph = torch::GradMode::is_enabled() && (z.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!graph) return forward_inference(input, act, w, b, running_mean, running_var, eps);
  // Inference statistics with a graph (no caller of ours does this): libtorch's ops.
  const auto a = act == PoolActivation::relu ? torch::relu(z) : torch::sigmoid(z);
  return torch::max_pool2d(torch::batch_norm(a, weight, bias, running_mean, running_var, false, momentum, eps, true), 2);
}

}  // namespace torchfit::kernels
