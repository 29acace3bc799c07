#include "core/checkpoint_restore.h"

#include <map>

#include "core/errors.h"

namespace torchfit {
namespace {

[[noreturn]] void fail(const std::string& label, const std::string& what) {
  throw Error("ERR_CHECKPOINT", label + ": " + what);
}

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    default: return c10::toString(t);
  }
}

std::shared_ptr<Classifier> build(const RestoreRequest& r) {
  try {
    return make_classifier(r.model, 0);
  } catch (const Error& e) {
    fail(r.label, std::string("the model description is invalid: ") + e.what());
  }
}

// Pairs every parameter and buffer of the model with its entry, refusing any difference first.
std::vector<std::pair<torch::Tensor, torch::Tensor>> match_state(Classifier& model, const RestoreRequest& r) {
  std::map<std::string, torch::Tensor> by_name;
  for (const auto& [name, tensor] : r.state) {
    if (!by_name.emplace(name, tensor).second) fail(r.label, "state_dict entry '" + name + "' appears twice");
  }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  auto check = [&](const std::string& name, const torch::Tensor& target) {
    auto it = by_name.find(name);
    if (it == by_name.end()) fail(r.label, "state_dict lacks '" + name + "' (another architecture?)");
    const auto& source = it->second;
    if (source.sizes() != target.sizes()) {
      fail(r.label, "state_dict entry '" + name + "' has shape " + c10::str(source.sizes()) + ", the model expects " +
                        c10::str(target.sizes()));
    }
    if (source.scalar_type() != target.scalar_type()) {
      fail(r.label, "state_dict entry '" + name + "' is " + dtype_name(source.scalar_type()) + ", the model expects " +
                        dtype_name(target.scalar_type()));
    }
    copies.emplace_back(target, source);
    by_name.erase(it);
  };
  for (const auto& item : model.named_parameters()) check(item.key(), item.value());
  for (const auto& item : model.named_buffers()) check(item.key(), item.value());
  if (!by_name.empty()) fail(r.label, "state_dict has an entry the model lacks: '" + by_name.begin()->first + "'");
  return copies;
}

// Slot i belongs to parameter i modulo the parameter count (SGD: one slot each; Adam: m's, then v's).
void check_slots(const Optimizer& optimizer, Classifier& model, const OptimizerRestore& o, const std::string& label) {
  const auto expected = optimizer.state();
  if (o.slots.size() != expected.size()) {
    fail(label, "optimizer state has " + std::to_string(o.slots.size()) + " slots, " + optimizer_name(o.config.kind) + " needs " +
                    std::to_string(expected.size()) + " for this model");
  }
  if (o.iterations < 0) fail(label, "optimizer iterations is " + std::to_string(o.iterations) + ", expected >= 0");
  std::vector<std::string> names;
  for (const auto& item : model.named_parameters()) names.push_back(item.key());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& slot = o.slots[i];
    const std::string& owner = names.empty() ? std::string("?") : names[i % names.size()];
    if (slot.sizes() != expected[i].sizes()) {
      fail(label, "optimizer slot " + std::to_string(i) + " has shape " + c10::str(slot.sizes()) + ", its parameter '" +
                      owner + "' has " + c10::str(expected[i].sizes()));
    }
    if (slot.scalar_type() != expected[i].scalar_type()) {
      fail(label, "optimizer slot " + std::to_string(i) + " is " + dtype_name(slot.scalar_type()) + ", expected " +
                      dtype_name(expected[i].scalar_type()));
    }
  }
}

}  // namespace

RestoredModel restore_model(const RestoreRequest& r) {
  RestoredModel out;
  out.model = build(r);
  const auto copies = match_state(*out.model, r);
  {
    torch::NoGradGuard no_grad;
    for (const auto& [target, source] : copies) target.copy_(source);
  }
  out.model->to(r.device);
  if (r.optimizer) {
    const auto& o = *r.optimizer;
    std::unique_ptr<Optimizer> optimizer;
    try {
      optimizer = make_optimizer(out.model->parameters(), o.config);
    } catch (const Error& e) {
      fail(r.label, std::string("the optimizer description is invalid: ") + e.what());
    }
    check_slots(*optimizer, *out.model, o, r.label);
    // copy_ moves each slot to the model's device.
    optimizer->load_state(o.slots, o.iterations);
    out.optimizer = std::move(optimizer);
    out.optimizer_config = o.config;
  }
  return out;
}

}  // namespace torchfit
