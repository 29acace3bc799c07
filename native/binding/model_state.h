// A trained model shared by its JS handle and any worker using it. The mutex
// serialises workers on the same model; the handle's dispose() only drops a reference.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <torch/types.h>

#include "core/live_tensors.h"
#include "core/models/classifier.h"
#include "core/optimizer.h"

namespace torchfit::binding {

struct ModelState {
  ModelState(std::shared_ptr<Classifier> m, torch::Device d)
      : model(std::move(m)), device(d) {
    counted = static_cast<int64_t>(model->parameters().size() + model->buffers().size());
    add_live_tensors(counted);
  }
  ~ModelState() { add_live_tensors(-counted); }

  std::shared_ptr<Classifier> model;
  torch::Device device;
  std::mutex mutex;
  // The optimizer that trained it, kept for checkpoints and resumed training.
  std::unique_ptr<Optimizer> optimizer;
  OptimizerConfig optimizer_config;
  int64_t counted = 0;
};

}  // namespace torchfit::binding
