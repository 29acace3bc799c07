#include "binding/convert_callbacks.h"

#include "binding/enums.h"
#include "binding/js_fields.h"
#include "core/errors.h"

#include <string>

namespace torchfit::binding {
namespace {

Metric metric_of(const Napi::Object& o) { return metric_from(text(o, "monitor")); }
bool mode_max(const Napi::Object& o) { return mode_max_from(text(o, "mode")); }

// A number or null: (present, value).
std::pair<bool, double> optional_number(const Napi::Object& o, const char* key) {
  const auto v = o.Get(key);
  return v.IsNumber() ? std::make_pair(true, v.As<Napi::Number>().DoubleValue()) : std::make_pair(false, 0.0);
}

PathPart path_part_from(const Napi::Object& o) {
  PathPart p;
  p.field = path_field_from(text(o, "field"));
  if (p.field == PathField::Text) {
    p.text = text(o, "text");
    return p;
  }
  const auto type = text(o, "type");
  p.type = type.empty() ? 0 : type[0];
  p.zero_pad = flag(o, "zeroPad");
  p.width = integer(o, "width");
  p.precision = integer(o, "precision");
  return p;
}

std::vector<double> column(const Napi::Object& history, const char* key) {
  std::vector<double> out;
  const auto v = history.Get(key);
  if (!v.IsArray()) return out;
  const auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
  return out;
}

}  // namespace

std::vector<CallbackConfig> callbacks_from(const Napi::Value& value) {
  std::vector<CallbackConfig> out;
  if (!value.IsArray()) return out;
  const auto list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const auto o = list.Get(i).As<Napi::Object>();
    const auto type = text(o, "type");
    CallbackConfig c;
    if (type == "earlyStopping") {
      c.kind = CallbackKind::EarlyStopping;
      auto& es = c.early_stopping;
      es.monitor = metric_of(o);
      es.mode_max = mode_max(o);
      es.patience = integer(o, "patience");
      es.min_delta = num(o, "minDelta");
      es.restore_best_weights = flag(o, "restoreBestWeights");
      std::tie(es.has_baseline, es.baseline) = optional_number(o, "baseline");
      es.start_from_epoch = integer(o, "startFromEpoch");
    } else if (type == "reduceLROnPlateau") {
      c.kind = CallbackKind::ReduceLrOnPlateau;
      auto& lr = c.reduce_lr;
      lr.monitor = metric_of(o);
      lr.mode_max = mode_max(o);
      lr.factor = num(o, "factor");
      lr.patience = integer(o, "patience");
      lr.min_delta = num(o, "minDelta");
      lr.cooldown = integer(o, "cooldown");
      lr.min_lr = num(o, "minLr");
    } else if (type == "modelCheckpoint") {
      c.kind = CallbackKind::ModelCheckpoint;
      auto& mc = c.checkpoint;
      const auto parts = o.Get("pathParts").As<Napi::Array>();
      for (uint32_t j = 0; j < parts.Length(); ++j) mc.path.push_back(path_part_from(parts.Get(j).As<Napi::Object>()));
      mc.monitor = metric_of(o);
      mc.mode_max = mode_max(o);
      mc.save_best_only = flag(o, "saveBestOnly");
      mc.save_weights_only = flag(o, "saveWeightsOnly");
      std::tie(mc.has_initial_value_threshold, mc.initial_value_threshold) = optional_number(o, "initialValueThreshold");
    } else if (type == "csvLogger") {
      continue;  // written by TypeScript (src/torch/csv-logger.ts)
    } else {
      internal_error("unknown callback type '" + type + "'");
    }
    out.push_back(std::move(c));
  }
  return out;
}

CheckpointMetadata checkpoint_metadata_from(const Napi::Value& value) {
  CheckpointMetadata m;
  if (!value.IsObject()) return m;
  const auto o = value.As<Napi::Object>();
  m.config_json = text(o, "configJson");
  m.options_json = text(o, "optionsJson");
  const auto before = o.Get("historyBefore");
  if (before.IsObject()) {
    const auto h = before.As<Napi::Object>();
    m.epoch = column(h, "epoch");
    m.loss = column(h, "loss");
    m.accuracy = column(h, "accuracy");
    m.val_loss = column(h, "valLoss");
    m.val_accuracy = column(h, "valAccuracy");
    m.seconds = column(h, "seconds");
    m.ms_per_step = column(h, "msPerStep");
    m.learning_rate = column(h, "learningRate");
  }
  return m;
}

}  // namespace torchfit::binding
