// One layer of a layers-API model as TypeScript resolved it: every field filled,
// shapes walked (channels first), momentum already in PyTorch's terms. The core
// builds modules from these and trusts them.
#pragma once

#include <cstdint>
#include <vector>

namespace torchfit {

enum class LayerType { Conv2d, Dense, BatchNorm, Activation, MaxPool, AvgPool, GlobalAvgPool, Flatten, Dropout, Residual };
enum class Activation { Linear, Relu, Sigmoid, Tanh, Softmax, Elu, Gelu, LeakyRelu };
enum class Initializer { GlorotUniform, GlorotNormal, HeNormal, HeUniform };
enum class Padding { Valid, Same };

// Keras's slope for leaky_relu's negative side (tf.nn.leaky_relu's default).
constexpr double kLeakyReluSlope = 0.2;

struct LayerConfig {
  LayerType type = LayerType::Flatten;
  std::vector<int64_t> input_shape;   // (C, H, W) or (F)
  std::vector<int64_t> output_shape;
  int64_t units = 0;                  // conv2d: filters; dense: units
  int64_t kernel_h = 1, kernel_w = 1; // conv2d: kernel; pooling: pool size
  int64_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::Valid;
  Activation activation = Activation::Linear;  // conv2d, dense, activation, residual
  bool use_bias = true;
  Initializer initializer = Initializer::GlorotUniform;
  double l2 = 0;                      // kernel regulariser; 0: none
  double momentum = 0.01;             // BatchNorm, PyTorch's: the weight of the new batch
  double epsilon = 1e-3;
  double rate = 0;                    // dropout
  std::vector<LayerConfig> body, shortcut;  // residual; an empty shortcut is the identity
};

}  // namespace torchfit
