// The data side of trainModel({ validationSplit, classWeight, sampleWeight }), as Keras's fit
// prepares it: the split first (the last rows of the data as given, before any shuffling,
// with their sampleWeight), then classWeight turned into per-sample weights of the training
// rows only, multiplied with their sampleWeight.
#pragma once

#include <utility>
#include <vector>

#include "core/trainer.h"

namespace torchfit {

// Rows [0, at) train, rows [at, N) validate; views of `all`, no copies.
std::pair<LabelledData, LabelledData> split_validation(const LabelledData& all, int64_t at);

// Per-sample weights of `data`: class_weights[y] times data.w (or alone when data has none).
torch::Tensor class_weighted(const LabelledData& data, const std::vector<double>& class_weights);

}  // namespace torchfit
