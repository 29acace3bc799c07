#include "core/kernels/batch_norm_blocked.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "core/kernels/batch_norm_train.h"
#include "core/kernels/buffer_pool.h"
#include "core/kernels/engine.h"
#include "core/kernels/onednn.h"

namespace torchfit::kernels {

bool batch_norm_blocked_applies(const torch::Tensor& x, const torch::Tensor& gamma, bool training) {
  if (!is_blocked(x) || !gamma.defined() || gamma.dim() != 1 || gamma.scalar_type() != torch::kFloat32 ||
      !gamma.device().is_cpu()) {
    return false;
  }
  const int64_t c = gamma.size(0);
  return c > 0 && x.size(1) == (c + engine_block() - 1) / engine_block() &&
         (!training || x.size(0) * x.size(2) * x.size(3) > 1);
}

#if defined(TORCHFIT_WITH_DNNL)

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace dn = onednn;

struct Problem {
  int64_t n, c, h, w;
  bool relu;

  dnnl::memory::desc data() const { return dn::desc({n, c, h, w}, dn::blocked_tag()); }
  dnnl::memory::desc channels() const { return dn::desc({c}, dn::tag::x); }
  std::string key() const {
    return std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w) + ",r" +
           std::to_string(relu);
  }
  dnnl::batch_normalization_forward::primitive_desc forward_pd(float eps) const {
    auto f = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift |
             dnnl::normalization_flags::use_global_stats;
    if (relu) f = f | dnnl::normalization_flags::fuse_norm_relu;
    const dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, data(), eps, f);
    return dnnl::batch_normalization_forward::primitive_desc(d, dn::base_attr(), dn::engine());
  }
};

Problem problem_of(const torch::Tensor& x, const torch::Tensor& gamma, bool relu) {
  return {x.size(0), gamma.size(0), x.size(2), x.size(3), relu};
}

std::string eps_key(float eps) { return std::to_string(eps); }

// Inference: normalised by the running statistics, in one oneDNN pass.
torch::Tensor inference(const Problem& p, const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                        const torch::Tensor& running_mean, const torch::Tensor& running_var, float eps) {
  RECORD_FUNCTION("torchfit::batch_norm_blocked", std::vector<c10::IValue>({x}));
  const auto entry = dn::cached("bn_fwd|0|" + eps_key(eps) + "|" + p.key(), [&] {
    const auto pd = p.forward_pd(eps);
    return dn::Entry{dnnl::batch_normalization_forward(pd), pd.scratchpad_desc(), {}};
  });
  auto y = recycled_empty(x.sizes());
  const auto md = p.data(), cmd = p.channels();
  dn::execute(*entry, {{DNNL_ARG_SRC, dn::memory(md, x)},
                       {DNNL_ARG_DST, dn::memory(md, y)},
                       {DNNL_ARG_SCALE, dn::memory(cmd, gamma)},
                       {DNNL_ARG_SHIFT, dn::memory(cmd, beta)},
                       {DNNL_ARG_MEAN, dn::memory(cmd, running_mean)},
                       {DNNL_ARG_VARIANCE, dn::memory(cmd, running_var)}});
  return y;
}

class BatchNormBlocked : public torch::autograd::Function<BatchNormBlocked> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gamma,
                               const torch::Tensor& beta, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps, bool relu) {
    auto y = recycled_empty(x.sizes());
    const auto saved = bn_train_forward(x, gamma, beta, running_mean, running_var, momentum, eps, relu, y);
    ctx->save_for_backward({x, gamma});
    ctx->saved_data["lanes"] = saved.lanes;
    ctx->saved_data["relu"] = relu;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    auto dx = recycled_empty(x.sizes());
    const auto g = bn_train_backward(x, grads[0].contiguous(), BnTrainSaved{ctx->saved_data["lanes"].toTensor()},
                                     saved[1], ctx->saved_data["relu"].toBool(), {}, /*mask_input=*/false, dx);
    return {ctx->needs_input_grad(0) ? dx : torch::Tensor(), ctx->needs_input_grad(1) ? g.dgamma : torch::Tensor(),
            ctx->needs_input_grad(2) ? g.dbeta : torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor batch_norm_blocked(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                                 const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training,
                                 double momentum, double eps, bool relu) {
  TORCH_CHECK(batch_norm_blocked_applies(x, gamma, training), "batch_norm_blocked: not a case the engine takes");
  TORCH_CHECK(running_mean.is_contiguous() && running_var.is_contiguous() &&
                  running_mean.scalar_type() == torch::kFloat32 && running_var.scalar_type() == torch::kFloat32,
              "batch_norm_blocked: float32 running statistics are needed");
  const auto g = gamma.contiguous(), b = beta.contiguous();
  const bool graph = torch::GradMode::is_enabled() && (x.requires_grad() || g.requires_grad() || b.requires_grad());
  if (training && graph) return BatchNormBlocked::apply(x, g, b, running_mean, running_var, momentum, eps, relu);
  torch::NoGradGuard no_grad;  // the parameters are read, never differentiated, here
  if (training) {
    auto y = recycled_empty(x.sizes());
    bn_train_forward(x, g, b, running_mean, running_var, momentum, eps, relu, y);
    return y;
  }
  return inference(problem_of(x, g, relu), x, g, b, running_mean, running_var, static_cast<float>(eps));
}

#else

torch::Tensor batch_norm_blocked(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                 const torch::Tensor&, bool, double, double, bool) {
  TORCH_CHECK(false, "batch_norm_blocked: built without oneDNN");
}

#endif

}  // namespace torchfit::kernels
