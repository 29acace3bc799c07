#include "core/kernels/batch_norm_blocked.h"

#include <ATen/record_function.h>
#include <torch/autograd.h>

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
  dnnl::normalization_flags flags(bool global_stats) const {
    auto f = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    if (relu) f = f | dnnl::normalization_flags::fuse_norm_relu;
    if (global_stats) f = f | dnnl::normalization_flags::use_global_stats;
    return f;
  }
  dnnl::batch_normalization_forward::primitive_desc forward_pd(bool training, float eps) const {
    const dnnl::batch_normalization_forward::desc d(
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, data(), eps,
        flags(!training));
    return dnnl::batch_normalization_forward::primitive_desc(d, dn::base_attr(), dn::engine());
  }
};

Problem problem_of(const torch::Tensor& x, const torch::Tensor& gamma, bool relu) {
  return {x.size(0), gamma.size(0), x.size(2), x.size(3), relu};
}

std::string eps_key(float eps) { return std::to_string(eps); }

// Training: y, the batch mean and biased variance, and the ReLU workspace (when fused).
struct Forward {
  torch::Tensor y, mean, var, workspace;
};

Forward forward_impl(const Problem& p, const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                     const torch::Tensor& running_mean, const torch::Tensor& running_var, bool training, double momentum,
                     float eps) {
  RECORD_FUNCTION("torchfit::batch_norm_blocked", std::vector<c10::IValue>({x}));
  const auto entry = dn::cached("bn_fwd|" + std::to_string(training) + "|" + eps_key(eps) + "|" + p.key(), [&] {
    const auto pd = p.forward_pd(training, eps);
    return dn::Entry{dnnl::batch_normalization_forward(pd), pd.scratchpad_desc(), {pd.workspace_desc()}};
  });
  Forward f;
  f.y = recycled_empty(x.sizes());
  const auto md = p.data(), cmd = p.channels();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dn::memory(md, x)},
                                             {DNNL_ARG_DST, dn::memory(md, f.y)},
                                             {DNNL_ARG_SCALE, dn::memory(cmd, gamma)},
                                             {DNNL_ARG_SHIFT, dn::memory(cmd, beta)}};
  if (training) {
    f.mean = torch::empty({p.c}, torch::kFloat32);
    f.var = torch::empty({p.c}, torch::kFloat32);
    args.emplace(DNNL_ARG_MEAN, dn::memory(cmd, f.mean));
    args.emplace(DNNL_ARG_VARIANCE, dn::memory(cmd, f.var));
    if (p.relu) {
      f.workspace = dn::empty_for(entry->extra[0]);
      args.emplace(DNNL_ARG_WORKSPACE, dn::memory(entry->extra[0], f.workspace));
    }
  } else {
    args.emplace(DNNL_ARG_MEAN, dn::memory(cmd, running_mean));
    args.emplace(DNNL_ARG_VARIANCE, dn::memory(cmd, running_var));
  }
  dn::execute(*entry, std::move(args));
  if (training) {
    // As torch::batch_norm: in double, the variance unbiased.
    torch::NoGradGuard no_grad;
    const double count = static_cast<double>(p.n * p.h * p.w);
    const double unbias = count / (count - 1);
    auto* rm = running_mean.data_ptr<float>();
    auto* rv = running_var.data_ptr<float>();
    const auto* m = f.mean.data_ptr<float>();
    const auto* v = f.var.data_ptr<float>();
    for (int64_t c = 0; c < p.c; ++c) {
      rm[c] = static_cast<float>(momentum * m[c] + (1 - momentum) * rm[c]);
      rv[c] = static_cast<float>(momentum * (v[c] * unbias) + (1 - momentum) * rv[c]);
    }
  }
  return f;
}

struct Backward {
  torch::Tensor dx, dgamma, dbeta;
};

Backward backward_impl(const Problem& p, const torch::Tensor& x, const torch::Tensor& dy, const torch::Tensor& gamma,
                       const torch::Tensor& beta, const torch::Tensor& mean, const torch::Tensor& var,
                       const torch::Tensor& workspace, float eps) {
  const auto entry = dn::cached("bn_bwd|" + eps_key(eps) + "|" + p.key(), [&] {
    const dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, p.data(), p.data(), eps,
                                                     p.flags(false));
    const dnnl::batch_normalization_backward::primitive_desc pd(d, dn::base_attr(), dn::engine(),
                                                                p.forward_pd(true, eps));
    return dn::Entry{dnnl::batch_normalization_backward(pd), pd.scratchpad_desc(), {pd.workspace_desc()}};
  });
  Backward b;
  b.dx = recycled_empty(x.sizes());
  b.dgamma = torch::empty({p.c}, torch::kFloat32);
  b.dbeta = torch::empty({p.c}, torch::kFloat32);
  const auto md = p.data(), cmd = p.channels();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dn::memory(md, x)},          {DNNL_ARG_DIFF_DST, dn::memory(md, dy)},
      {DNNL_ARG_MEAN, dn::memory(cmd, mean)},     {DNNL_ARG_VARIANCE, dn::memory(cmd, var)},
      {DNNL_ARG_SCALE, dn::memory(cmd, gamma)},   {DNNL_ARG_SHIFT, dn::memory(cmd, beta)},
      {DNNL_ARG_DIFF_SRC, dn::memory(md, b.dx)},  {DNNL_ARG_DIFF_SCALE, dn::memory(cmd, b.dgamma)},
      {DNNL_ARG_DIFF_SHIFT, dn::memory(cmd, b.dbeta)}};
  if (p.relu) args.emplace(DNNL_ARG_WORKSPACE, dn::memory(entry->extra[0], workspace));
  dn::execute(*entry, std::move(args));
  return b;
}

class BatchNormBlocked : public torch::autograd::Function<BatchNormBlocked> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gamma,
                               const torch::Tensor& beta, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, double momentum, double eps, bool relu) {
    const auto p = problem_of(x, gamma, relu);
    auto f = forward_impl(p, x, gamma, beta, running_mean, running_var, /*training=*/true, momentum,
                          static_cast<float>(eps));
    ctx->save_for_backward({x, gamma, beta});
    ctx->saved_data["mean"] = f.mean;
    ctx->saved_data["var"] = f.var;
    ctx->saved_data["workspace"] = f.workspace.defined() ? f.workspace : torch::Tensor();
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["relu"] = relu;
    return f.y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    RECORD_FUNCTION("torchfit::batch_norm_blocked_backward", std::vector<c10::IValue>());
    const auto saved = ctx->get_saved_variables();
    const auto p = problem_of(saved[0], saved[1], ctx->saved_data["relu"].toBool());
    const auto b = backward_impl(p, saved[0], grads[0].contiguous(), saved[1], saved[2],
                                 ctx->saved_data["mean"].toTensor(), ctx->saved_data["var"].toTensor(),
                                 ctx->saved_data["workspace"].toTensor(),
                                 static_cast<float>(ctx->saved_data["eps"].toDouble()));
    return {ctx->needs_input_grad(0) ? b.dx : torch::Tensor(), ctx->needs_input_grad(1) ? b.dgamma : torch::Tensor(),
            ctx->needs_input_grad(2) ? b.dbeta : torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
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
  return forward_impl(problem_of(x, g, relu), x, g, b, running_mean, running_var, training, momentum,
                      static_cast<float>(eps))
      .y;
}

#else

torch::Tensor batch_norm_blocked(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                 const torch::Tensor&, bool, double, double, bool) {
  TORCH_CHECK(false, "batch_norm_blocked: built without oneDNN");
}

#endif

}  // namespace torchfit::kernels
