// The training session: a model with what goes on with it (the optimizer that trained it and
// that optimizer's settings, its device), shared by its JS handle and the jobs that use it,
// and the jobs themselves: train (a new model or a resumed one), restore from a checkpoint,
// evaluate, predict, save. The binding only converts JS values into these plain inputs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <torch/types.h>

#include "core/array_input.h"
#include "core/checkpoint_restore.h"
#include "core/config.h"
#include "core/models/classifier.h"
#include "core/optimizer.h"
#include "core/trainer.h"

namespace torchfit {

// The mutex serialises the jobs on one session; dropping a handle only drops a reference, so
// a running job finishes with the session it started with. Its parameters and buffers count
// as live tensors for as long as it lives.
struct Session {
  Session(std::shared_ptr<Classifier> model, torch::Device device);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::shared_ptr<Classifier> model;
  torch::Device device;
  std::mutex mutex;
  // The optimizer that trained it (null after restoring a checkpoint without one), kept for
  // checkpoints and resumed training.
  std::unique_ptr<Optimizer> optimizer;
  OptimizerConfig optimizer_config;

 private:
  int64_t counted_ = 0;
};

// trainModel's data as the caller holds it: w (per-sample loss weights) and the validation
// pair may be null.
struct TrainData {
  const ArrayInput* x = nullptr;
  const ArrayInput* y = nullptr;
  const ArrayInput* w = nullptr;
  const ArrayInput* val_x = nullptr;
  const ArrayInput* val_y = nullptr;
};

struct TrainRequest {
  ModelConfig model;
  TrainConfig config;
  // Training goes on with this session (same architecture and device, checked in TypeScript);
  // null: a new model from `model` and config.seed.
  std::shared_ptr<Session> resume;
  TrainData data;
};

struct TrainResult {
  std::shared_ptr<Session> session;
  TrainOutcome outcome;
};

// One trainModel call, on the calling (worker) thread: the session (new, or the resumed one
// with its optimizer kept when the optimizer kind is the same, so its moments and step count
// go on), the data on the device (validationSplit and classWeight applied), the data-parallel
// group when asked for, then fit(). Throws on failure; a resumed session is then left as the
// failed run left it, as Keras leaves a model after an interrupted fit.
TrainResult train_session(const TrainRequest& request, const TrainCallbacks& callbacks);

// Model.load: the model (and optimizer) a checkpoint describes, on request.device.
std::shared_ptr<Session> restore_session(const RestoreRequest& request);

EvalResult evaluate_session(Session& session, const ArrayInput& x, const ArrayInput& y, int64_t batch_size,
                            const std::atomic<bool>* cancel);
// Softmax probabilities (N, num_classes), float32 on the CPU.
torch::Tensor predict_session(Session& session, const ArrayInput& x, int64_t batch_size, const std::atomic<bool>* cancel);
// Model.save: the checkpoint file at `path`, with the optimizer's state when asked and present.
void save_session(Session& session, const std::string& path, const std::string& config_json, bool with_optimizer);

}  // namespace torchfit
