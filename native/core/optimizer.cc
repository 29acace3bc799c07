#include "core/optimizer.h"

#include <cmath>

#include "core/errors.h"

namespace torchfit {

void Optimizer::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().reset();  // set to None: backward writes fresh gradients
  }
}

namespace {

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<torch::Tensor> params, const OptimizerConfig& c)
      : Optimizer(std::move(params), c.learning_rate), momentum_(c.momentum), nesterov_(c.nesterov) {
    if (momentum_ != 0) {
      for (const auto& p : params_) velocity_.push_back(torch::zeros_like(p));
    }
  }

  void step() override {
    torch::NoGradGuard no_grad;
    ++iterations_;
    for (size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      const auto& g = p.grad();
      if (!g.defined()) continue;
      if (momentum_ == 0) {
        p.add_(g, -lr_);
        continue;
      }
      auto& v = velocity_[i];
      v.mul_(momentum_).add_(g, -lr_);  // v = m*v - lr*g
      if (nesterov_) {
        p.add_(v, momentum_).add_(g, -lr_);
      } else {
        p.add_(v);
      }
    }
  }

  std::vector<torch::Tensor> state() const override { return velocity_; }
  void load_state(const std::vector<torch::Tensor>& slots, int64_t iterations) override {
    if (slots.size() != velocity_.size()) throw Error("ERR_CHECKPOINT", "SGD state does not match the model");
    for (size_t i = 0; i < slots.size(); ++i) velocity_[i].copy_(slots[i]);
    iterations_ = iterations;
  }

 private:
  double momentum_;
  bool nesterov_;
  std::vector<torch::Tensor> velocity_;
};

class KerasAdam : public Optimizer {
 public:
  KerasAdam(std::vector<torch::Tensor> params, const OptimizerConfig& c)
      : Optimizer(std::move(params), c.learning_rate), beta1_(c.beta1), beta2_(c.beta2), epsilon_(c.epsilon) {
    for (const auto& p : params_) {
      m_.push_back(torch::zeros_like(p));
      v_.push_back(torch::zeros_like(p));
    }
  }

  void set_fused_kernels(bool on) override { fused_ = on; }

  void step() override {
    torch::NoGradGuard no_grad;
    ++iterations_;
    const double t = static_cast<double>(iterations_);
    const double alpha = lr_ * std::sqrt(1 - std::pow(beta2_, t)) / (1 - std::pow(beta1_, t));
    for (size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      const auto& g = p.grad();
      if (!g.defined()) continue;
      if (fused_ && fused_step(p, g, m_[i], v_[i], alpha)) continue;
      m_[i].lerp_(g, 1 - beta1_);                       // m += (g - m) * (1 - b1)
      v_[i].mul_(beta2_).addcmul_(g, g, 1 - beta2_);    // v += (g^2 - v) * (1 - b2)
      p.addcdiv_(m_[i], v_[i].sqrt().add_(epsilon_), -alpha);
    }
  }

  // The three tensor updates above in one pass over a CPU float32 parameter (a ResNet-20
  // has 82 parameters: six small ops each cost more in dispatch than in arithmetic).
  bool fused_step(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v, double alpha) const {
    const auto f32_cpu = [](const torch::Tensor& t) {
      return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
    };
    if (!f32_cpu(p) || !f32_cpu(g) || !f32_cpu(m) || !f32_cpu(v) || g.numel() != p.numel()) return false;
    auto* pp = p.data_ptr<float>();
    auto* mp = m.data_ptr<float>();
    auto* vp = v.data_ptr<float>();
    const auto* gp = g.data_ptr<float>();
    const float w1 = static_cast<float>(1 - beta1_), b2 = static_cast<float>(beta2_), w2 = static_cast<float>(1 - beta2_);
    const float eps = static_cast<float>(epsilon_), step = static_cast<float>(-alpha);
    const int64_t n = p.numel();
    for (int64_t i = 0; i < n; ++i) {
      const float gi = gp[i];
      const float mi = mp[i] + w1 * (gi - mp[i]);
      const float vi = b2 * vp[i] + w2 * gi * gi;
      mp[i] = mi;
      vp[i] = vi;
      pp[i] += step * (mi / (std::sqrt(vi) + eps));
    }
    return true;
  }

  std::vector<torch::Tensor> state() const override {
    std::vector<torch::Tensor> out(m_);
    out.insert(out.end(), v_.begin(), v_.end());
    return out;
  }
  void load_state(const std::vector<torch::Tensor>& slots, int64_t iterations) override {
    if (slots.size() != 2 * m_.size()) throw Error("ERR_CHECKPOINT", "Adam state does not match the model");
    for (size_t i = 0; i < m_.size(); ++i) {
      m_[i].copy_(slots[i]);
      v_[i].copy_(slots[m_.size() + i]);
    }
    iterations_ = iterations;
  }

 private:
  double beta1_, beta2_, epsilon_;
  bool fused_ = false;
  std::vector<torch::Tensor> m_, v_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(std::vector<torch::Tensor> params, const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::Sgd: return std::make_unique<Sgd>(std::move(params), config);
    case OptimizerKind::Adam: return std::make_unique<KerasAdam>(std::move(params), config);
  }
  internal_error("unknown optimizer kind " + std::to_string(static_cast<int>(config.kind)));
}

}  // namespace torchfit
