// Before the first collective, the ranks check that they were given the same run: with
// different data sizes or options they would run different numbers of collectives and hang.
#pragma once

#include <string>
#include <torch/nn/module.h>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/distributed/communicator.h"

namespace torchfit {

// Throws ERR_DISTRIBUTED naming the first fact the ranks disagree on.
void check_agreement(Communicator& comm, const std::vector<std::pair<std::string, int64_t>>& facts);

// The facts of one fit() call: image counts, label checksums, parameter count, epochs,
// batch size, seed, shuffle, optimizer, learning rates, initial epoch, callbacks.
// val_y: undefined without validation data.
void agree_on_run(Communicator& comm, torch::nn::Module& model, const torch::Tensor& train_y,
                  const torch::Tensor& val_y, const TrainConfig& config);

}  // namespace torchfit
