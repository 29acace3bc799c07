#include "core/kernels/cnn_stem.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>
#include <vector>

#include "core/kernels/bn_pool_stats.h"
#include "core/kernels/conv1ch.h"
#include "core/kernels/buffer_pool.h"
#include "core/kernels/kernel_table.h"
#include "core/kernels/activation_bn_pool.h"

namespace torchfit::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class CnnStem : public torch::autograd::Function<CnnStem> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& conv_weight,
                               const torch::Tensor& conv_bias, const torch::Tensor& bn_weight,
                               const torch::Tensor& bn_bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, int64_t pad, double momentum, double eps) {
    RECORD_FUNCTION("torchfit::cnn_stem", std::vector<c10::IValue>({x}));
    const ConvGeometry cg{x.size(2), x.size(3), pad};
    const int64_t n = x.size(0), c = conv_weight.size(0);
    const PlaneGeometry g{cg.height + 2 * pad - 2, cg.width + 2 * pad - 2};
    const int64_t st = plane_stride(g), pooled = (g.height / 2) * (g.width / 2);
    const auto signs = scale_signs(bn_weight);
    auto sig = recycled_empty({n, c, g.height, st});
    auto idx = torch::empty({n, c, g.height / 2, g.width / 2}, x.options().dtype(torch::kUInt8));
    auto s_at = torch::empty({n, c, g.height / 2, g.width / 2}, x.options());
    std::vector<double> sums(n * c), m2s(n * c);
    const auto& k = kernels();
    const float* xp = x.data_ptr<float>();
    const float* wp = conv_weight.data_ptr<float>();
    const float* bp = conv_bias.data_ptr<float>();
    float* sp = sig.data_ptr<float>();
    uint8_t* ip = idx.data_ptr<uint8_t>();
    float* ap = s_at.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(stem_scratch(cg));
      for (int64_t i = begin; i < end; ++i) {
        k.stem_forward_image(xp + i * cg.height * cg.width, wp, bp, c, cg, signs.data(), scratch.data(),
                             sp + i * c * g.height * st, sums.data() + i * c, m2s.data() + i * c,
                             ap + i * c * pooled, ip + i * c * pooled);
      }
    });
    const auto affine = batch_statistics(sums, m2s, n, c, g.height * g.width, bn_weight, bn_bias, running_mean,
                                         running_var, momentum, eps);
    auto out = torch::empty_like(s_at);
    pooled_output(s_at, affine, out);

    ctx->save_for_backward({x, bn_weight});
    ctx->saved_data["sig"] = sig;
    ctx->saved_data["idx"] = idx;
    ctx->saved_data["s_at"] = s_at;
    ctx->saved_data["mean"] = torch::tensor(affine.mean);
    ctx->saved_data["invstd"] = torch::tensor(affine.invstd);
    ctx->saved_data["pad"] = pad;
    ctx->saved_data["channels"] = c;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::cnn_stem_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& bn_weight = saved[1];
    const auto sig = ctx->saved_data["sig"].toTensor();
    const auto idx = ctx->saved_data["idx"].toTensor();
    const auto mean = ctx->saved_data["mean"].toTensor();
    const int64_t pad = ctx->saved_data["pad"].toInt(), c = ctx->saved_data["channels"].toInt();
    const auto dpooled = grads[0].contiguous();
    const ConvGeometry cg{x.size(2), x.size(3), pad};
    const int64_t n = x.size(0), oh = cg.height + 2 * pad - 2, ow = cg.width + 2 * pad - 2;
    const int64_t st = plane_stride({oh, ow}), pooled = (oh / 2) * (ow / 2);
    const auto bn = pool_bn_gradients(dpooled, ctx->saved_data["s_at"].toTensor(), mean,
                                      ctx->saved_data["invstd"].toTensor(), bn_weight, oh * ow);

    // The conv's gradients: per-image partial sums in double, added in image order.
    std::vector<double> parts(n * c * 10, 0.0);
    const auto& k = kernels();
    const float* xp = x.data_ptr<float>();
    const float* sp = sig.data_ptr<float>();
    const float* dp = dpooled.data_ptr<float>();
    const uint8_t* ip = idx.data_ptr<uint8_t>();
    const float* mp = mean.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(stem_scratch(cg));
      for (int64_t i = begin; i < end; ++i) {
        double* part = parts.data() + i * c * 10;
        k.stem_backward_image(xp + i * cg.height * cg.width, sp + i * c * oh * st, dp + i * c * pooled,
                              ip + i * c * pooled, c, cg, bn.a.data(), bn.b.data(), bn.c.data(), mp, scratch.data(),
                              part, part + c * 9);
      }
    });
    std::vector<double> total(c * 10, 0.0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < c * 10; ++j) total[j] += parts[i * c * 10 + j];
    }
    auto dweight = torch::empty({c, 1, 3, 3}, x.options());
    auto dbias = torch::empty({c}, x.options());
    for (int64_t j = 0; j < c * 9; ++j) dweight.data_ptr<float>()[j] = static_cast<float>(total[j]);
    for (int64_t j = 0; j < c; ++j) dbias.data_ptr<float>()[j] = static_cast<float>(total[c * 9 + j]);
    return {torch::Tensor(),
            ctx->needs_input_grad(1) ? dweight : torch::Tensor(),
            ctx->needs_input_grad(2) ? dbias : torch::Tensor(),
            ctx->needs_input_grad(3) ? bn.dgamma : torch::Tensor(),
            ctx->needs_input_grad(4) ? bn.dbeta : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

// Inference (evaluate, predict: 1,024 images a batch): nothing is saved, so each image's
// sigmoid planes live in a per-thread scratch instead of an 88 MB tensor.
torch::Tensor stem_inference(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias,
                             int64_t pad, const torch::Tensor& bn_weight, const torch::Tensor& bn_bias,
                             const torch::Tensor& running_mean, const torch::Tensor& running_var, double eps) {
  RECORD_FUNCTION("torchfit::cnn_stem_inference", std::vector<c10::IValue>({x}));
  const ConvGeometry cg{x.size(2), x.size(3), pad};
  const int64_t n = x.size(0), c = conv_weight.size(0);
  const PlaneGeometry g{cg.height + 2 * pad - 2, cg.width + 2 * pad - 2};
  const int64_t st = plane_stride(g), pooled = (g.height / 2) * (g.width / 2);
  const auto signs = scale_signs(bn_weight);
  auto s_at = torch::empty({n, c, g.height / 2, g.width / 2}, x.options());
  const auto& k = kernels();
  const float* xp = x.data_ptr<float>();
  const float* wp = conv_weight.data_ptr<float>();
  const float* bp = conv_bias.data_ptr<float>();
  float* ap = s_at.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(stem_scratch(cg)), planes(c * g.height * st);
    std::vector<double> sums(c), m2s(c);  // statistics nobody reads
    std::vector<uint8_t> idx(c * pooled);
    for (int64_t i = begin; i < end; ++i) {
      k.stem_forward_image(xp + i * cg.height * cg.width, wp, bp, c, cg, signs.data(), scratch.data(), planes.data(),
                           sums.data(), m2s.data(), ap + i * c * pooled, idx.data());
    }
  });
  pooled_output(s_at, running_statistics(bn_weight, bn_bias, running_mean, running_var, eps), s_at);
  return s_at;
}

}  // namespace

bool cnn_stem_applies(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias,
                      int64_t pad, const torch::Tensor& bn_weight) {
  if (!conv1ch3x3_applies(x, conv_weight, conv_bias, /*stride=*/1, pad) || x.requires_grad()) return false;
  const int64_t oh = x.size(2) + 2 * pad - 2, ow = x.size(3) + 2 * pad - 2;
  return oh >= 2 && ow >= 2 && bn_weight.defined() && bn_weight.scalar_type() == torch::kFloat32 &&
         bn_weight.numel() == conv_weight.size(0);
}

torch::Tensor cnn_stem(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias,
                       int64_t pad, const torch::Tensor& bn_weight, const torch::Tensor& bn_bias,
                       const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                       double momentum, double eps) {
  if (!training) {
    const bool graph = torch::GradMode::is_enabled() &&
                       (conv_weight.requires_grad() || conv_bias.requires_grad() || bn_weight.requires_grad() ||
                        bn_bias.requires_grad());
    if (!graph) return stem_inference(x.contiguous(), conv_weight.contiguous(), conv_bias.contiguous(), pad,
                                      bn_weight.contiguous(), bn_bias.contiguous(), running_mean, running_var, eps);
    return activation_bn_pool(conv1ch3x3(x, conv_weight, conv_bias, pad), PoolActivation::sigmoid, bn_weight, bn_bias,
                              running_mean, running_var, false, momentum, eps);
  }
  return CnnStem::apply(x.contiguous(), conv_weight.contiguous(), conv_bias.contiguous(), bn_weight.contiguous(),
                        bn_bias.contiguous(), running_mean, running_var, pad, momentum, eps);
}

}  // namespace torchfit::kernels
