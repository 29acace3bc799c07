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

  void step() override {
    torch::NoGradGuard no_grad;
    ++iterations_;
    const double t = static_cast<double>(iterations_);
    const double alpha = lr_ * std::sqrt(1 - std::pow(beta2_, t)) / (1 - std::pow(beta1_, t));
    for (size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      const auto& g = p.grad();
      if (!g.defined()) continue;
      m_[i].lerp_(g, 1 - beta1_);                       // m += (g - m) * (1 - b1)
      v_[i].mul_(beta2_).addcmul_(g, g, 1 - beta2_);    // v += (g^2 - v) * (1 - b2)
      p.addcdiv_(m_[i], v_[i].sqrt().add_(epsilon_), -alpha);
    }
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
