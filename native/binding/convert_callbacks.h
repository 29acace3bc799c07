// trainModel's callbacks list and checkpoint metadata (src/torch/callbacks.ts) to the core's
// structs. TypeScript has validated everything; these only read fields.
#pragma once

#include <napi.h>
#include <vector>

#include "core/callbacks_config.h"

namespace torchfit::binding {

// config.callbacks: [{ type: 'earlyStopping' | 'reduceLROnPlateau' | 'modelCheckpoint' | 'csvLogger', ... }]
std::vector<CallbackConfig> callbacks_from(const Napi::Value& value);
// spec.checkpointMetadata: { configJson, optionsJson, historyBefore?: History }
CheckpointMetadata checkpoint_metadata_from(const Napi::Value& value);

}  // namespace torchfit::binding
