#include "core/errors.h"
#include "core/init.h"
#include "core/models/cnn.h"
#include "core/models/resnet.h"
#include "core/models/sequential.h"

namespace torchfit {

std::shared_ptr<Classifier> make_classifier(const ModelConfig& config, uint64_t seed) {
  auto gen = make_cpu_generator(seed);
  switch (config.kind) {
    case ModelKind::Cnn:
      return std::make_shared<Cnn>(config, gen);
    case ModelKind::ResNet:
      return std::make_shared<ResNet>(config, gen);
    case ModelKind::Layers:
      return std::make_shared<Sequential>(config, gen, seed);
  }
  internal_error("unknown model kind " + std::to_string(static_cast<int>(config.kind)));
}

}  // namespace torchfit
