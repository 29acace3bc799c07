// Plain option structs handed over by the binding. TypeScript (src/torch/train-plan.ts and the
// helpers it calls) validates and fills every field, and is the one home of the defaults
// (src/torch/defaults.ts): the initialisers here only agree with it, for the test-only natives
// that build a struct themselves. Closed sets of values are enum classes; the binding converts
// the names once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/callbacks_config.h"
#include "core/models/layer_config.h"

namespace torchfit {

enum class ModelKind { Cnn, ResNet, Layers };

struct ModelConfig {
  ModelKind kind = ModelKind::Cnn;
  int depth = 2;          // ResNet only: 6n+2
  int num_classes = 5;
  int channels = 1;       // input image, NCHW
  int height = 28;
  int width = 28;
  // 'cnn' and 'resnet': every BatchNorm's momentum in PyTorch's terms (the weight of the new
  // batch, 1 - Keras's); trainModel({ batchNormMomentum }), default Keras's 0.99 -> 0.01.
  double bn_momentum = 0.01;
  std::vector<LayerConfig> layers;  // Layers only
  std::string layers_json;          // Layers only: the description, as checkpoints store it
};

enum class OptimizerKind { Sgd, Adam };

// The name a checkpoint stores ("sgd" | "adam"), as TypeScript spells it.
inline const char* optimizer_name(OptimizerKind kind) { return kind == OptimizerKind::Adam ? "adam" : "sgd"; }

// TypeScript's defaults for SGD; its Adam defaults the learning rate to 0.001.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Sgd;
  double learning_rate = 0.01;
  double momentum = 0.0;     // SGD
  bool nesterov = false;     // SGD
  double beta1 = 0.9;        // Adam
  double beta2 = 0.999;      // Adam
  double epsilon = 1e-7;     // Adam, Keras's form: added to sqrt(v)
};

enum class DistributedBackend { Gloo, Nccl };

inline const char* backend_name(DistributedBackend backend) { return backend == DistributedBackend::Nccl ? "nccl" : "gloo"; }

// Data-parallel training over c10d (core/distributed/). Disabled: one process, as before.
struct DistributedConfig {
  bool enabled = false;
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  // where rank 0 hosts the rendezvous store
  int master_port = 29500;
  int64_t timeout_ms = 60000;             // every collective (and the goodbye) gives up after this
  int64_t rendezvous_timeout_ms = 300000; // waiting for every rank to arrive
  DistributedBackend backend = DistributedBackend::Gloo;  // 'auto' resolved in TypeScript
  std::string interface;                  // Gloo's network interface; empty: chosen from master_addr
  int64_t bucket_bytes = 25 << 20;        // gradient all-reduce bucket size, as DDP's bucket_cap_mb
};

// Keras's fill_mode, with scipy.ndimage's meanings.
enum class FillMode { Nearest, Constant, Reflect };

// trainModel({ augment }): random transforms of the training batches (core/augment.h),
// validated and defaulted in TypeScript (src/torch/augment.ts).
struct AugmentConfig {
  bool enabled = false;
  bool horizontal_flip = false;
  bool vertical_flip = false;
  double width_shift = 0;           // < 1: fraction of the width; >= 1: pixels
  bool width_shift_integer = false; // a whole number >= 1: Keras's integer range, whole pixels |s| <= n - 1
  double height_shift = 0;
  bool height_shift_integer = false;
  double rotation = 0;              // degrees: uniform in [-rotation, rotation]
  double zoom_low = 1, zoom_high = 1;
  FillMode fill_mode = FillMode::Nearest;
  double cval = 0;
  int64_t crop_padding = 0;         // 0: no random crop
};

struct TrainConfig {
  int epochs = 25;                // the last epoch (Keras's meaning): trains epochs initial_epoch .. epochs - 1 (0-based)
  int batch_size = 128;
  int eval_batch_size = 1024;
  OptimizerConfig optimizer;
  // One learning rate per epoch (a schedule computed in TypeScript); empty: constant.
  std::vector<double> epoch_learning_rates;
  uint64_t seed = 0;
  bool shuffle = true;
  std::string device = "cpu";     // TypeScript resolves 'auto' (its default): "cpu" or "cuda:N"
  int threads = 0;                // TypeScript sends >= 1 (default: the machine's cores); 0: leave libtorch's setting
  bool fused_kernels = true;      // trainModel({ kernels: 'fused' | 'plain' })
  double batch_progress_interval_ms = 100.0;  // throttle for batch records; < 0: none
  AugmentConfig augment;
  DistributedConfig distributed;
  // Training control (core/callbacks.h, core/run_control.h).
  int initial_epoch = 0;          // resuming: shuffles and the schedule continue from here
  std::vector<CallbackConfig> callbacks;
  CheckpointMetadata checkpoint_metadata;
  double time_limit_ms = 0;       // > 0: end the epoch at the batch that passes it, keep the model
  // trainModel({ validationSplit, classWeight, sampleWeight }) (core/sample_weights.h): the
  // training rows from validation_split_at on are the validation data (Keras's last fraction,
  // before any shuffling; 0: no split); class_weights[c] multiplies the loss of every training
  // sample of class c (empty: none). sampleWeight travels with the data (LabelledData::w).
  int64_t validation_split_at = 0;
  std::vector<double> class_weights;
};

}  // namespace torchfit
