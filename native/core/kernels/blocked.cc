// Entering and leaving the engine's blocked layout (engine.h): one oneDNN reorder each way.
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include "core/kernels/buffer_pool.h"
#include "core/kernels/engine.h"
#include "core/kernels/onednn.h"

namespace torchfit::kernels {

bool is_blocked(const torch::Tensor& t) {
  return engine_available() && t.defined() && t.dim() == 5 && t.size(4) == engine_block() &&
         t.scalar_type() == torch::kFloat32 && t.device().is_cpu() && t.is_contiguous();
}

#if defined(TORCHFIT_WITH_DNNL)

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

torch::Tensor to_blocked_impl(const torch::Tensor& x) {
  RECORD_FUNCTION("torchfit::to_blocked", std::vector<c10::IValue>({x}));
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto out = recycled_empty(onednn::blocked_shape(n, c, h, w));
  onednn::reorder(onednn::desc({n, c, h, w}, onednn::tag::nchw), x, onednn::desc({n, c, h, w}, onednn::blocked_tag()), out);
  return out;
}

torch::Tensor from_blocked_impl(const torch::Tensor& x, int64_t c) {
  RECORD_FUNCTION("torchfit::from_blocked", std::vector<c10::IValue>({x}));
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  auto out = recycled_empty({n, c, h, w});
  onednn::reorder(onednn::desc({n, c, h, w}, onednn::blocked_tag()), x, onednn::desc({n, c, h, w}, onednn::tag::nchw), out);
  return out;
}

class ToBlocked : public torch::autograd::Function<ToBlocked> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    ctx->saved_data["channels"] = x.size(1);
    return to_blocked_impl(x);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return {from_blocked_impl(grads[0].contiguous(), ctx->saved_data["channels"].toInt())};
  }
};

class FromBlocked : public torch::autograd::Function<FromBlocked> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t channels) {
    return from_blocked_impl(x, channels);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    return {to_blocked_impl(grads[0].contiguous()), torch::Tensor()};
  }
};

bool graph(const torch::Tensor& x) { return torch::GradMode::is_enabled() && x.requires_grad(); }

}  // namespace

torch::Tensor to_blocked(const torch::Tensor& x) {
  TORCH_CHECK(engine_available() && x.dim() == 4 && x.scalar_type() == torch::kFloat32 && x.device().is_cpu(),
              "to_blocked: a CPU float32 NCHW tensor and the engine are needed");
  const auto input = x.contiguous();
  return graph(input) ? ToBlocked::apply(input) : to_blocked_impl(input);
}

torch::Tensor from_blocked(const torch::Tensor& x, int64_t channels) {
  TORCH_CHECK(is_blocked(x) && channels > 0 && channels <= x.size(1) * x.size(4),
              "from_blocked: a blocked tensor holding ", channels, " channels is needed");
  return graph(x) ? FromBlocked::apply(x, channels) : from_blocked_impl(x, channels);
}

#else

torch::Tensor to_blocked(const torch::Tensor&) { TORCH_CHECK(false, "to_blocked: built without oneDNN"); }
torch::Tensor from_blocked(const torch::Tensor&, int64_t) { TORCH_CHECK(false, "from_blocked: built without oneDNN"); }

#endif

}  // namespace torchfit::kernels
