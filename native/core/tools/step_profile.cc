#include "core/tools/step_profile.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <thread>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "core/device.h"
#include "core/init.h"
#include "core/kernels/buffer_pool.h"
#include "core/trainer.h"

namespace torchfit {
namespace {

namespace prof = torch::autograd::profiler;

// "aten::mm [128, 1600]": the op and its first input's shape.
std::string name_with_shape(const prof::LegacyEvent& e) {
  std::string out = e.name();
  const auto shapes = e.shapes();
  if (shapes.empty() || shapes[0].empty()) return out;
  out += " [";
  for (size_t i = 0; i < shapes[0].size(); ++i) out += (i ? ", " : "") + std::to_string(shapes[0][i]);
  return out + "]";
}

// Self and total time per op name from the legacy profiler's push/pop events, thread by thread.
std::vector<OpTime> summarise(const prof::thread_event_lists& lists, int steps, bool by_shape) {
  std::map<std::string, OpTime> by_name;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double child_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0});
      } else if (e.kind() == prof::EventKind::PopRange) {
        // Pops name their push by handle; unwind anything left open inside it.
        while (!stack.empty() && stack.back().push->handle() != e.handle()) stack.pop_back();
        if (stack.empty()) continue;
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        const std::string name = by_shape ? name_with_shape(*open.push) : std::string(open.push->name());
        auto& op = by_name[name];
        op.name = name;
        op.total_ms += us / 1000;
        op.self_ms += (us - open.child_us) / 1000;
        op.calls += 1;
        if (!stack.empty()) stack.back().child_us += us;
      }
    }
  }
  std::vector<OpTime> out;
  for (auto& [name, op] : by_name) {
    op.self_ms /= steps;
    op.total_ms /= steps;
    op.calls /= steps;
    out.push_back(op);
  }
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
  return out;
}

}  // namespace

namespace {

StepProfile profile_here(const ModelConfig& model_config, const TrainConfig& config, int warmup, int steps,
                         bool by_shape, int timed) {
  set_threads(config.threads);
  auto model = make_classifier(model_config, config.seed);
  model->set_fused_kernels(config.fused_kernels);
  kernels::RecycledJob recycled_job;  // as fit has it
  model->train();
  auto optimizer = make_optimizer(model->parameters(), config.optimizer);
  optimizer->set_fused_kernels(config.fused_kernels);
  auto gen = make_cpu_generator(config.seed + 1);
  const auto x = torch::rand({config.batch_size, model_config.channels, model_config.height, model_config.width}, gen);
  const auto y = torch::randint(model_config.num_classes, {config.batch_size}, gen, torch::kInt64);

  for (int i = 0; i < warmup; ++i) train_step(*model, *optimizer, x, y);
  std::vector<double> times;
  for (int i = 0; i < (timed < 0 ? std::max(steps, 5) : std::max(timed, 1)); ++i) {
    const auto start = std::chrono::steady_clock::now();
    train_step(*model, *optimizer, x, y);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  StepProfile out;
  out.step_ms = times;
  std::sort(times.begin(), times.end());
  out.ms_per_step = times[times.size() / 2];
  prof::thread_event_lists lists;
  {
    prof::TLSLegacyProfilerGuard guard(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/by_shape),
        [&](const prof::thread_event_lists& result) { lists = result; });
    for (int i = 0; i < steps; ++i) train_step(*model, *optimizer, x, y);
  }
  out.ops = summarise(lists, steps, by_shape);
  return out;
}

}  // namespace

StepProfile profile_steps(const ModelConfig& model_config, const TrainConfig& config, int warmup, int steps,
                          bool by_shape, int timed) {
  // On a thread of its own, as training runs on a libuv worker: glibc gives each thread its
  // own malloc arena, and the main thread's reuses memory differently (whole-step page-fault
  // bursts that training never sees).
  StepProfile out;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      out = profile_here(model_config, config, warmup, steps, by_shape, timed);
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace torchfit
