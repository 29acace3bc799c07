#include "core/layout.h"

#include <ATen/Parallel.h>

namespace torchfit {

torch::Tensor channels_last_to_first(const torch::Tensor& nhwc) {
  if (!nhwc.device().is_cpu() || nhwc.scalar_type() != torch::kFloat32) {
    return nhwc.permute({0, 3, 1, 2}).contiguous();
  }
  // CPU float32 (every JS array): one image per task, reading each pixel's channels in
  // order and writing C planes; ATen's generic strided copy is slower on a last axis of 3.
  const auto src = nhwc.contiguous();
  const int64_t n = src.size(0), h = src.size(1), w = src.size(2), c = src.size(3);
  auto out = torch::empty({n, c, h, w}, src.options());
  const float* in = src.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t plane = h * w;
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float* image = in + i * plane * c;
      float* planes = dst + i * plane * c;
      for (int64_t p = 0; p < plane; ++p) {
        for (int64_t ch = 0; ch < c; ++ch) planes[ch * plane + p] = image[p * c + ch];
      }
    }
  });
  return out;
}

}  // namespace torchfit
