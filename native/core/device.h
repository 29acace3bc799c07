// Device selection and facts about the libtorch we run on.
#pragma once

#include <string>
#include <torch/types.h>

namespace torchfit {

struct RuntimeInfo {
  std::string libtorch_version;
  bool cuda_compiled = false;
  bool cuda_available = false;
  int device_count = 0;
  std::string device_name;  // first CUDA device, when there is one
  int threads = 0;
};

RuntimeInfo runtime_info();

// "cpu", "cuda", "cuda:N" (already validated in TypeScript); checks the device exists.
torch::Device resolve_device(const std::string& spec);

// Applies an intra-op thread count on the calling thread (0: keep libtorch's).
void set_threads(int threads);

}  // namespace torchfit
