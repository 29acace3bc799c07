#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "core/augment.h"
#include "core/distributed/agreement.h"
#include "core/distributed/data_parallel.h"
#include "core/distributed/sampler.h"
#include "core/callbacks.h"
#include "core/errors.h"
#include "core/init.h"
#include "core/kernels/buffer_pool.h"
#include "core/weighted_loss.h"

namespace torchfit {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Running sums of one epoch, kept on the device so CUDA steps need no host sync.
struct RunningMeans {
  torch::Tensor loss_sum, correct;
  int64_t samples = 0;

  explicit RunningMeans(torch::Device device) {
    loss_sum = torch::zeros({}, torch::TensorOptions().device(device).dtype(torch::kFloat64));
    correct = torch::zeros({}, torch::TensorOptions().device(device).dtype(torch::kInt64));
  }
  void add(const torch::Tensor& batch_loss, const torch::Tensor& logits, const torch::Tensor& y) {
    const int64_t n = y.size(0);
    loss_sum.add_(batch_loss.detach().to(torch::kFloat64) * static_cast<double>(n));
    correct.add_(logits.detach().argmax(1).eq(y).sum());
    samples += n;
  }
  std::pair<double, double> read() const {
    if (samples == 0) return {NAN, NAN};
    return {loss_sum.item<double>() / samples, static_cast<double>(correct.item<int64_t>()) / samples};
  }
  // The epoch's means over every rank's batches (all ranks get the same numbers).
  std::pair<double, double> read_over_ranks(Communicator& comm) const {
    const auto sums = sum_over_ranks(
        comm, {loss_sum.item<double>(), static_cast<double>(correct.item<int64_t>()), static_cast<double>(samples)},
        "combining the training metrics");
    if (sums[2] == 0) return {NAN, NAN};
    return {sums[0] / sums[2], sums[1] / sums[2]};
  }
};

// Validation split between the ranks (contiguous parts), the sums combined: every rank
// gets the figures of the whole validation set, each having evaluated only its part.
EvalResult evaluate_over_ranks(Classifier& model, const LabelledData& data, int64_t batch_size,
                               const std::atomic<bool>* cancel, Communicator& comm) {
  const auto [begin, end] = contiguous_part(data.size(), comm.rank(), comm.world_size());
  const LabelledData part{data.x.slice(0, begin, end), data.y.slice(0, begin, end),
                          data.w.defined() ? data.w.slice(0, begin, end) : torch::Tensor()};
  const auto local = evaluate_sums(model, part, batch_size, cancel);
  const auto sums = sum_over_ranks(comm, {local.loss_sum, local.correct, static_cast<double>(local.samples)},
                                   "combining the validation metrics");
  return finish_evaluation(model, EvalSums{sums[0], sums[1], static_cast<int64_t>(sums[2])});
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> train_step(Classifier& model, Optimizer& optimizer, const torch::Tensor& x,
                                                   const torch::Tensor& y, const std::function<void()>& before_step,
                                                   const torch::Tensor& weights) {
  optimizer.zero_grad();
  auto logits = model.forward(x);
  auto loss = batch_cross_entropy(logits, y, weights);
  const auto reg = model.regularization_loss();
  if (reg.defined()) loss = loss + reg;
  loss.backward();
  model.add_regularization_gradients();
  if (before_step) before_step();
  optimizer.step();
  return {loss, logits};
}

TrainOutcome fit(Classifier& model, Optimizer& optimizer, const LabelledData& train, const LabelledData* validation,
                 const TrainConfig& config, const TrainCallbacks& callbacks, Communicator* comm) {
  const torch::Device device = train.x.device();
  const int rank = comm != nullptr ? comm->rank() : 0;
  const int world_size = comm != nullptr ? comm->world_size() : 1;
  // Each rank trains on its shard: batchSize is per rank, as with DDP (global batch = batchSize * world size).
  const int64_t n = shard_size(train.size(), world_size);
  const int64_t batch = config.batch_size;
  // BatchNorm cannot train on a single sample (zero variance): a trailing batch of one is skipped.
  const int64_t usable = (n > 1 && n % batch == 1) ? n - 1 : n;
  const int64_t steps = (usable + batch - 1) / batch;
  const bool sync_each_step = device.is_cpu();  // cheap on CPU, and catches NaN at the step it happens
  auto shuffle_gen = make_cpu_generator(config.seed ^ 0x9E3779B97F4A7C15ULL);
  // Augmentation has generators of its own (per rank and epoch): it never changes the shuffle's draws.
  const uint64_t augment_seed = (config.seed ^ 0xC2B2AE3D27D4EB4FULL) + static_cast<uint64_t>(rank);
  model.set_fused_kernels(config.fused_kernels);
  optimizer.set_fused_kernels(config.fused_kernels);
  kernels::RecycledJob recycled_job;

  std::unique_ptr<GradientBuckets> buckets;
  if (comm != nullptr) {
    agree_on_run(*comm, model, train.y, validation != nullptr ? validation->y : torch::Tensor(), config);
    broadcast_state(*comm, model, &optimizer);
    buckets = std::make_unique<GradientBuckets>(model.parameters(), config.distributed.bucket_bytes);
  }

  TrainOutcome outcome;
  EpochCallbacks epoch_callbacks(config, optimizer.learning_rate(), rank == 0);
  RunControl control(config, callbacks.stop, callbacks.batch_stops, comm);
  // Resuming at initial_epoch: the shuffle generator moves past the earlier epochs' orders,
  // so the run goes on exactly as one uninterrupted run would.
  if (config.shuffle) {
    for (int epoch = 0; epoch < config.initial_epoch; ++epoch) torch::randperm(train.size(), shuffle_gen, torch::kInt64);
  }

  for (int epoch = config.initial_epoch; epoch < config.epochs; ++epoch) {
    check_cancel(callbacks.cancel);
    const auto epoch_start = Clock::now();
    const double lr = epoch_callbacks.begin_epoch(epoch);
    optimizer.set_learning_rate(lr);
    // Augmentation draws from a generator of its own per epoch (and rank): resuming at any
    // epoch needs no replay of the earlier draws.
    auto augment_gen = make_cpu_generator(augment_seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1));

    // The same generator and seed on every rank: the same permutation everywhere, then sharded.
    const int64_t all = train.size();
    torch::Tensor order = config.shuffle ? torch::randperm(all, shuffle_gen, torch::kInt64)
                                         : torch::arange(all, torch::kInt64);
    if (comm != nullptr) order = shard_order(order, rank, world_size);
    order = order.to(device);
    model.train();
    RunningMeans means(device);
    auto last_report = Clock::now();

    int64_t steps_run = 0;
    bool end_epoch = false;
    for (int64_t step = 0; step < steps && !end_epoch; ++step) {
      check_cancel(callbacks.cancel);
      const int64_t start = step * batch;
      const auto idx = order.slice(0, start, std::min(usable, start + batch));
      auto xb = train.x.index_select(0, idx);
      if (config.augment.enabled) xb = augment_batch(xb, config.augment, augment_gen);
      const auto yb = train.y.index_select(0, idx);
      const auto wb = train.w.defined() ? train.w.index_select(0, idx) : torch::Tensor();

      const auto [loss, logits] = train_step(model, optimizer, xb, yb, [&] {
        if (buckets) buckets->average(*comm);  // data-parallel: the ranks' gradients, averaged
      }, wb);
      means.add(loss, logits, yb);
      steps_run = step + 1;

      const bool report_due = callbacks.on_batch && config.batch_progress_interval_ms >= 0 &&
                              std::chrono::duration<double, std::milli>(Clock::now() - last_report).count() >=
                                  config.batch_progress_interval_ms;
      if (sync_each_step || report_due || step + 1 == steps) {
        const auto [mean_loss, mean_acc] = means.read();
        if (!std::isfinite(mean_loss)) {
          throw Error("ERR_NAN_LOSS", "the training loss became " + std::to_string(mean_loss) + " at epoch " +
                                          std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                                          ": lower the learning rate or check the inputs for NaN/Inf");
        }
        if (report_due) {
          last_report = Clock::now();
          callbacks.on_batch(BatchRecord{epoch + 1, step + 1, steps, mean_loss, mean_acc, seconds_since(epoch_start)});
        }
      }
      // control.stop() or the time limit: this epoch ends here and still gets its log (Keras).
      if (step + 1 < steps) end_epoch = control.end_epoch_now();
    }

    EpochRecord record;
    record.epoch = epoch + 1;
    record.epochs = config.epochs;
    if (comm != nullptr) {
      std::tie(record.loss, record.accuracy) = means.read_over_ranks(*comm);
      average_buffers(*comm, model);  // before validation, which runs on the running statistics
    } else {
      std::tie(record.loss, record.accuracy) = means.read();
    }
    const double train_seconds = seconds_since(epoch_start);
    record.steps = steps_run;
    record.ms_per_step = steps_run > 0 ? 1000.0 * train_seconds / steps_run : 0;
    record.learning_rate = lr;
    if (validation != nullptr && validation->size() > 0) {
      const auto val = comm != nullptr ? evaluate_over_ranks(model, *validation, config.eval_batch_size, callbacks.cancel, *comm)
                                       : evaluate(model, *validation, config.eval_batch_size, callbacks.cancel);
      record.val_loss = val.loss;
      record.val_accuracy = val.accuracy;
    }
    record.seconds = seconds_since(epoch_start);
    outcome.history.push_back(record);

    // Keras's order: the callbacks list first (EarlyStopping, ReduceLROnPlateau,
    // ModelCheckpoint as given), then the run ends if any of them or stop() asked.
    const bool early_stop = epoch_callbacks.end_epoch(&model, &optimizer, outcome.history).stop;
    outcome.best_epoch = epoch_callbacks.best_epoch();
    outcome.restored_best_weights = epoch_callbacks.restored_best_weights();
    if (callbacks.on_epoch) callbacks.on_epoch(record);
    check_cancel(callbacks.cancel);  // an abort from onEpochEnd rejects, even after the last epoch
    const bool stop_now = control.end_run_now() || end_epoch;
    if (early_stop || stop_now) {
      outcome.stopped_epoch = epoch;
      outcome.stop_reason = early_stop ? StopReason::EarlyStopping : control.reason();
      break;
    }
  }
  return outcome;
}

}  // namespace torchfit
