// The names TypeScript validated ('sgd', 'nccl', 'reflect', ...) as the core's enum classes,
// converted once, here. A name outside the table is a bug upstream: ERR_INTERNAL.
#pragma once

#include <string>

#include "core/callbacks_config.h"
#include "core/config.h"
#include "core/models/layer_config.h"

namespace torchfit::binding {

ModelKind model_kind_from(const std::string& name);
OptimizerKind optimizer_kind_from(const std::string& name);
DistributedBackend backend_from(const std::string& name);
FillMode fill_mode_from(const std::string& name);
LayerType layer_type_from(const std::string& name);
Activation activation_from(const std::string& name);
Initializer initializer_from(const std::string& name);
Padding padding_from(const std::string& name);
Metric metric_from(const std::string& name);
// 'min' | 'max': true for 'max'.
bool mode_max_from(const std::string& name);
PathField path_field_from(const std::string& name);

}  // namespace torchfit::binding
