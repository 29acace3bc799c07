#include "core/sample_weights.h"

namespace torchfit {

std::pair<LabelledData, LabelledData> split_validation(const LabelledData& all, int64_t at) {
  const int64_t n = all.size();
  const auto rows = [](const torch::Tensor& t, int64_t begin, int64_t end) {
    return t.defined() ? t.slice(0, begin, end) : torch::Tensor();
  };
  return {LabelledData{rows(all.x, 0, at), rows(all.y, 0, at), rows(all.w, 0, at)},
          LabelledData{rows(all.x, at, n), rows(all.y, at, n), rows(all.w, at, n)}};
}

torch::Tensor class_weighted(const LabelledData& data, const std::vector<double>& class_weights) {
  const auto table = torch::tensor(class_weights, torch::kFloat64).to(data.y.device(), torch::kFloat32);
  auto w = table.index_select(0, data.y);
  return data.w.defined() ? w * data.w : w;
}

}  // namespace torchfit
