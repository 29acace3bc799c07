#include "core/device.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/version.h>

#ifdef TORCHFIT_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include "core/blas.h"
#include "core/errors.h"

namespace torchfit {

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.libtorch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                          std::to_string(TORCH_VERSION_PATCH);
#ifdef TORCHFIT_WITH_CUDA
  info.cuda_compiled = true;
#else
  info.cuda_compiled = at::hasCUDA();
#endif
  info.cuda_available = torch::cuda::is_available();
  info.device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
#ifdef TORCHFIT_WITH_CUDA
  if (info.device_count > 0) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) info.device_name = prop.name;
  }
#endif
  info.threads = at::get_num_threads();
  return info;
}

torch::Device resolve_device(const std::string& spec) {
  torch::Device device(spec);
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw Error("ERR_DEVICE_UNAVAILABLE", "device '" + spec + "' was asked for, but " +
                                                (runtime_info().cuda_compiled ? "no CUDA GPU is visible"
                                                                              : "this libtorch was built without CUDA"));
    }
    const int index = device.has_index() ? device.index() : 0;
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      throw Error("ERR_DEVICE_UNAVAILABLE", "device '" + spec + "' does not exist: " +
                                                std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return device;
}

void set_threads(int threads) {
  // With OpenMP the setting belongs to the calling thread, so every worker applies it.
  limit_blas_threads();
  if (threads > 0) at::set_num_threads(threads);
}

}  // namespace torchfit
