#include "binding/enums.h"

#include <initializer_list>
#include <utility>

#include "core/errors.h"

namespace torchfit::binding {
namespace {

template <typename E>
E pick(const char* what, const std::string& name, std::initializer_list<std::pair<const char*, E>> table) {
  for (const auto& [key, value] : table) {
    if (name == key) return value;
  }
  internal_error(std::string("unknown ") + what + " '" + name + "'");
}

}  // namespace

ModelKind model_kind_from(const std::string& name) {
  return pick<ModelKind>("model kind", name, {{"cnn", ModelKind::Cnn}, {"resnet", ModelKind::ResNet}, {"layers", ModelKind::Layers}});
}

OptimizerKind optimizer_kind_from(const std::string& name) {
  return pick<OptimizerKind>("optimizer", name, {{"sgd", OptimizerKind::Sgd}, {"adam", OptimizerKind::Adam}});
}

DistributedBackend backend_from(const std::string& name) {
  return pick<DistributedBackend>("distributed backend", name, {{"gloo", DistributedBackend::Gloo}, {"nccl", DistributedBackend::Nccl}});
}

FillMode fill_mode_from(const std::string& name) {
  return pick<FillMode>("fill mode", name,
                        {{"nearest", FillMode::Nearest}, {"constant", FillMode::Constant}, {"reflect", FillMode::Reflect}});
}

LayerType layer_type_from(const std::string& name) {
  return pick<LayerType>("layer type", name, {{"conv2d", LayerType::Conv2d}, {"dense", LayerType::Dense},
      {"batchNormalization", LayerType::BatchNorm}, {"activation", LayerType::Activation},
      {"maxPooling2d", LayerType::MaxPool}, {"averagePooling2d", LayerType::AvgPool},
      {"globalAveragePooling2d", LayerType::GlobalAvgPool}, {"flatten", LayerType::Flatten},
      {"dropout", LayerType::Dropout}, {"residual", LayerType::Residual}});
}

Activation activation_from(const std::string& name) {
  return pick<Activation>("activation", name, {{"linear", Activation::Linear}, {"relu", Activation::Relu},
      {"sigmoid", Activation::Sigmoid}, {"tanh", Activation::Tanh}, {"softmax", Activation::Softmax},
      {"elu", Activation::Elu}, {"gelu", Activation::Gelu}, {"leakyRelu", Activation::LeakyRelu}});
}

Initializer initializer_from(const std::string& name) {
  return pick<Initializer>("initializer", name, {{"glorotUniform", Initializer::GlorotUniform},
      {"glorotNormal", Initializer::GlorotNormal}, {"heNormal", Initializer::HeNormal}, {"heUniform", Initializer::HeUniform}});
}

Padding padding_from(const std::string& name) {
  return pick<Padding>("padding", name, {{"valid", Padding::Valid}, {"same", Padding::Same}});
}

Metric metric_from(const std::string& name) {
  return pick<Metric>("monitor", name, {{"loss", Metric::Loss}, {"accuracy", Metric::Accuracy},
      {"val_loss", Metric::ValLoss}, {"val_accuracy", Metric::ValAccuracy}});
}

bool mode_max_from(const std::string& name) { return pick<bool>("mode", name, {{"min", false}, {"max", true}}); }

PathField path_field_from(const std::string& name) {
  return pick<PathField>("checkpoint path field", name, {{"text", PathField::Text}, {"epoch", PathField::Epoch},
      {"loss", PathField::Loss}, {"accuracy", PathField::Accuracy}, {"val_loss", PathField::ValLoss},
      {"val_accuracy", PathField::ValAccuracy}, {"lr", PathField::LearningRate}});
}

}  // namespace torchfit::binding
