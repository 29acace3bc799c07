#include "core/checkpoint_callback.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

#include "core/checkpoint.h"
#include "core/errors.h"

namespace torchfit {
namespace {

// Shortest round-trip digits of a finite value and its decimal exponent: value = d.ddd x 10^exp.
void shortest_digits(double value, bool& negative, std::string& digits, int& exp) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  const std::string text(buf, result.ptr);
  const auto e = text.find('e');
  std::string mantissa = text.substr(0, e);
  exp = std::stoi(text.substr(e + 1));
  negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  digits.clear();
  for (const char c : mantissa) {
    if (c != '.') digits += c;
  }
}

std::string non_finite(double value) { return std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf"; }

std::string printf_format(const char* format, int precision, double value) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), format, precision, value);
  return buf;
}

// Python's width with right alignment; the '0' flag pads with zeros after the sign.
std::string pad(std::string s, const PathPart& part) {
  if (static_cast<int>(s.size()) >= part.width) return s;
  const size_t missing = static_cast<size_t>(part.width) - s.size();
  if (!part.zero_pad) return std::string(missing, ' ') + s;
  const size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  return s.insert(sign, missing, '0');
}

std::string format_field(const PathPart& part, double value, bool integer) {
  std::string s;
  const int precision = part.precision >= 0 ? part.precision : 6;
  if (part.type == 'd' || (part.type == 0 && integer)) {
    s = std::to_string(static_cast<long long>(value));
  } else if (part.type == 0) {
    s = python_float_repr(value);
  } else if (!std::isfinite(value)) {
    s = non_finite(value);
  } else if (part.type == 'f') {
    s = printf_format("%.*f", precision, value);
  } else if (part.type == 'e') {
    s = printf_format("%.*e", precision, value);
  } else {
    s = printf_format("%.*g", precision, value);
  }
  return pad(s, part);
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += std::isnan(value) ? R"({"$number":"NaN"})" : value > 0 ? R"({"$number":"Infinity"})" : R"({"$number":"-Infinity"})";
    return;
  }
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

}  // namespace

double metric_value(const EpochRecord& record, Metric metric) {
  switch (metric) {
    case Metric::Loss: return record.loss;
    case Metric::Accuracy: return record.accuracy;
    case Metric::ValLoss: return record.val_loss;
    case Metric::ValAccuracy: return record.val_accuracy;
  }
  return NAN;
}

std::string python_float_repr(double value) {
  if (!std::isfinite(value)) return non_finite(value);
  bool negative = false;
  std::string digits;
  int exp = 0;
  shortest_digits(value, negative, digits, exp);
  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + e;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  const size_t whole = static_cast<size_t>(exp) + 1;
  if (digits.size() <= whole) return out + digits + std::string(whole - digits.size(), '0') + ".0";
  return out + digits.substr(0, whole) + "." + digits.substr(whole);
}

std::string format_checkpoint_path(const std::vector<PathPart>& parts, const EpochRecord& record) {
  std::string out;
  for (const auto& part : parts) {
    switch (part.field) {
      case PathField::Text: out += part.text; break;
      case PathField::Epoch: out += format_field(part, record.epoch, true); break;
      case PathField::Loss: out += format_field(part, record.loss, false); break;
      case PathField::Accuracy: out += format_field(part, record.accuracy, false); break;
      case PathField::ValLoss: out += format_field(part, record.val_loss, false); break;
      case PathField::ValAccuracy: out += format_field(part, record.val_accuracy, false); break;
      // Keras's logs hold the rate as a float32, which Python formats as a float.
      case PathField::LearningRate:
        out += format_field(part, static_cast<double>(static_cast<float>(record.learning_rate)), false);
        break;
    }
  }
  return out;
}

std::string checkpoint_config_json(const CheckpointMetadata& m, const std::vector<EpochRecord>& history) {
  std::string json = "{\"config\":" + m.config_json + ",\"metadata\":{\"history\":{";
  // One History column: the earlier calls' values, then this call's.
  auto column = [&](const char* key, const std::vector<double>& before, auto&& field) {
    if (json.back() != '{') json += ',';
    json += std::string("\"") + key + "\":[";
    for (const double v : before) {
      append_json_number(json, v);
      json += ',';
    }
    for (const auto& r : history) {
      append_json_number(json, field(r));
      json += ',';
    }
    if (json.back() == ',') json.pop_back();
    json += ']';
  };
  column("epoch", m.epoch, [](const EpochRecord& r) { return static_cast<double>(r.epoch); });
  column("loss", m.loss, [](const EpochRecord& r) { return r.loss; });
  column("accuracy", m.accuracy, [](const EpochRecord& r) { return r.accuracy; });
  column("valLoss", m.val_loss, [](const EpochRecord& r) { return r.val_loss; });
  column("valAccuracy", m.val_accuracy, [](const EpochRecord& r) { return r.val_accuracy; });
  column("seconds", m.seconds, [](const EpochRecord& r) { return r.seconds; });
  column("msPerStep", m.ms_per_step, [](const EpochRecord& r) { return r.ms_per_step; });
  column("learningRate", m.learning_rate, [](const EpochRecord& r) { return r.learning_rate; });
  json += "},\"options\":" + m.options_json + "}}";
  return json;
}

ModelCheckpoint::ModelCheckpoint(const ModelCheckpointConfig& config) : config_(config) {
  best_ = config.has_initial_value_threshold ? config.initial_value_threshold
          : config.mode_max                  ? -std::numeric_limits<double>::infinity()
                                             : std::numeric_limits<double>::infinity();
}

bool ModelCheckpoint::should_save(const EpochRecord& record) {
  if (!config_.save_best_only) return true;
  const double current = metric_value(record, config_.monitor);
  if (!(config_.mode_max ? current > best_ : current < best_)) return false;
  best_ = current;
  return true;
}

std::string ModelCheckpoint::path(const EpochRecord& record) const { return format_checkpoint_path(config_.path, record); }

std::string ModelCheckpoint::save(const EpochRecord& record, Classifier& model, const Optimizer& optimizer,
                                  const OptimizerConfig& optimizer_config, const CheckpointMetadata& metadata,
                                  const std::vector<EpochRecord>& history) const {
  const std::string path = this->path(record);
  // Keras creates the folder of the path when it is missing.
  const auto folder = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!folder.empty()) std::filesystem::create_directories(folder, error);
  if (error) throw Error("ERR_CHECKPOINT", path + ": cannot create its folder: " + error.message());
  write_checkpoint(path, make_checkpoint(model, checkpoint_config_json(metadata, history),
                                         config_.save_weights_only ? nullptr : &optimizer, optimizer_config));
  return path;
}

}  // namespace torchfit
