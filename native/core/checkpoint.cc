#include "core/checkpoint.h"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <torch/serialize.h>

#include "core/errors.h"

namespace torchfit {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error("ERR_CHECKPOINT", path + ": " + what);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string host_name() {
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "host";
  std::string out;
  for (const char* c = name; *c; ++c) out += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
  return out.empty() ? "host" : out;
}

// ".NAME.tmp-HOST-": temporary files of saves to `path`; the pid and a counter follow.
std::string temp_prefix(const std::string& path) {
  return "." + path.substr(path.find_last_of('/') + 1) + ".tmp-" + host_name() + "-";
}

// A process killed mid-save leaves its temporary file behind (it never replaced the checkpoint).
// Remove those of this host whose process is gone; files of live processes and other hosts stay.
void remove_stale_temporaries(const std::string& path) {
  const std::string prefix = temp_prefix(path);
  DIR* dir = ::opendir(dir_of(path).c_str());
  if (dir == nullptr) return;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // PID-COUNTER
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789-") != std::string::npos) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlinkat(::dirfd(dir), name.c_str(), 0);
  }
  ::closedir(dir);
}

}  // namespace

Checkpoint make_checkpoint(Classifier& model, const std::string& config_json, const Optimizer* optimizer,
                           const OptimizerConfig& optimizer_config) {
  Checkpoint c;
  c.model = model.config();
  c.config_json = config_json;
  for (const auto& item : model.named_parameters()) c.state_dict.emplace_back(item.key(), item.value().detach().cpu());
  for (const auto& item : model.named_buffers()) c.state_dict.emplace_back(item.key(), item.value().detach().cpu());
  if (optimizer != nullptr) {
    OptimizerSnapshot snap;
    snap.config = optimizer_config;
    snap.iterations = optimizer->iterations();
    for (const auto& t : optimizer->state()) snap.slots.push_back(t.detach().cpu());
    c.optimizer = std::move(snap);
  }
  return c;
}

void write_file_atomically(const std::string& path, const std::vector<char>& bytes) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = dir_of(path) + "/" + temp_prefix(path) + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, std::string("cannot create a temporary file: ") + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, "write failed: " + why);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(path, "flush failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(path, "rename failed: " + why);
  }
  // Make the rename itself durable.
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  remove_stale_temporaries(path);
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  c10::Dict<std::string, torch::Tensor> state;
  for (const auto& [name, tensor] : c.state_dict) state.insert(name, tensor);
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("format", std::string(kCheckpointFormat));
  root.insert("version", kCheckpointVersion);
  root.insert("config", c.config_json);
  c10::impl::GenericDict model(c10::StringType::get(), c10::AnyType::get());
  model.insert("kind", std::string(c.model.kind == ModelKind::ResNet ? "resnet" : c.model.kind == ModelKind::Layers ? "layers" : "cnn"));
  // A layers model: its resolved description as JSON text (Model.load resolves it again).
  if (c.model.kind == ModelKind::Layers) model.insert("layers", c.model.layers_json);
  model.insert("depth", static_cast<int64_t>(c.model.depth));
  model.insert("num_classes", static_cast<int64_t>(c.model.num_classes));
  model.insert("channels", static_cast<int64_t>(c.model.channels));
  model.insert("height", static_cast<int64_t>(c.model.height));
  model.insert("width", static_cast<int64_t>(c.model.width));
  root.insert("model", model);
  root.insert("state_dict", state);
  if (c.optimizer) {
    c10::impl::GenericDict opt(c10::StringType::get(), c10::AnyType::get());
    const auto& oc = c.optimizer->config;
    opt.insert("name", oc.name);
    opt.insert("learning_rate", oc.learning_rate);
    opt.insert("momentum", oc.momentum);
    opt.insert("nesterov", oc.nesterov);
    opt.insert("beta1", oc.beta1);
    opt.insert("beta2", oc.beta2);
    opt.insert("epsilon", oc.epsilon);
    opt.insert("iterations", c.optimizer->iterations);
    opt.insert("slots", c10::List<torch::Tensor>(c.optimizer->slots));
    root.insert("optimizer", opt);
  }
  write_file_atomically(path, torch::pickle_save(root));
}

Checkpoint read_checkpoint(const std::vector<char>& bytes, const std::string& path) {
  if (bytes.size() < 22) fail(path, "file is too short to be a checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  // torch.save's zip format starts with a local file header.
  if (!(bytes[0] == 'P' && bytes[1] == 'K')) fail(path, "not a torch.save zip archive (bad magic)");
  torch::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    fail(path, std::string("corrupted or truncated archive: ") + e.what_without_backtrace());
  }
  if (!root.isGenericDict()) fail(path, "expected a dict at the top level");
  auto dict = root.toGenericDict();
  auto get = [&](const char* key) -> torch::IValue {
    if (!dict.contains(key)) fail(path, std::string("missing field '") + key + "'");
    return dict.at(key);
  };
  const auto format = get("format");
  if (!format.isString() || format.toStringRef() != kCheckpointFormat) fail(path, "field 'format' is not 'torchfit-model'");
  const auto version = get("version");
  if (!version.isInt() || version.toInt() != kCheckpointVersion) fail(path, "unsupported checkpoint version");
  const auto config = get("config");
  if (!config.isString()) fail(path, "field 'config' is not a string");
  Checkpoint c;
  c.config_json = config.toStringRef();
  const auto model = get("model");
  if (!model.isGenericDict()) fail(path, "field 'model' is not a dict");
  auto md = model.toGenericDict();
  // Bounded so that a hostile file cannot ask for an enormous model.
  auto field = [&](const char* key, int64_t lo, int64_t hi) -> int {
    if (!md.contains(key) || !md.at(key).isInt()) fail(path, std::string("field 'model.") + key + "' is missing or not an integer");
    const int64_t v = md.at(key).toInt();
    if (v < lo || v > hi) {
      fail(path, std::string("field 'model.") + key + "' is " + std::to_string(v) + ", expected " + std::to_string(lo) +
                     ".." + std::to_string(hi));
    }
    return static_cast<int>(v);
  };
  if (!md.contains("kind") || !md.at("kind").isString()) fail(path, "field 'model.kind' is missing");
  const auto kind = md.at("kind").toStringRef();
  if (kind != "cnn" && kind != "resnet" && kind != "layers") {
    fail(path, "field 'model.kind' is '" + kind + "', expected 'cnn', 'resnet' or 'layers'");
  }
  c.model.kind = kind == "resnet" ? ModelKind::ResNet : kind == "layers" ? ModelKind::Layers : ModelKind::Cnn;
  if (c.model.kind == ModelKind::Layers) {
    if (!md.contains("layers") || !md.at("layers").isString()) fail(path, "field 'model.layers' is missing or not a string");
    c.model.layers_json = md.at("layers").toStringRef();
  }
  c.model.depth = field("depth", 0, 1000);
  c.model.num_classes = field("num_classes", 2, 100000);
  c.model.channels = field("channels", 1, 64);
  c.model.height = field("height", 8, 4096);
  c.model.width = field("width", 8, 4096);
  const auto state = get("state_dict");
  if (!state.isGenericDict()) fail(path, "field 'state_dict' is not a dict");
  for (const auto& entry : state.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) fail(path, "field 'state_dict' holds a non-tensor entry");
    c.state_dict.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
  }
  if (dict.contains("optimizer")) {
    const auto opt = dict.at("optimizer");
    if (!opt.isGenericDict()) fail(path, "field 'optimizer' is not a dict");
    auto od = opt.toGenericDict();
    if (!od.contains("name") || !od.contains("iterations") || !od.contains("slots")) fail(path, "field 'optimizer' is incomplete");
    OptimizerSnapshot snap;
    // torch.load + torch.save in Python turns our tensor list into a plain list: accept both.
    const auto slots = od.at("slots");
    if (!od.at("name").isString() || !od.at("iterations").isInt() || !(slots.isTensorList() || slots.isList())) {
      fail(path, "field 'optimizer' has fields of the wrong type");
    }
    snap.config.name = od.at("name").toStringRef();
    if (snap.config.name != "sgd" && snap.config.name != "adam") fail(path, "field 'optimizer.name' is unknown");
    auto real = [&](const char* key, double& out) {
      if (!od.contains(key) || !od.at(key).isDouble()) fail(path, std::string("field 'optimizer.") + key + "' is missing");
      out = od.at(key).toDouble();
    };
    real("learning_rate", snap.config.learning_rate);
    real("momentum", snap.config.momentum);
    real("beta1", snap.config.beta1);
    real("beta2", snap.config.beta2);
    real("epsilon", snap.config.epsilon);
    if (!od.contains("nesterov") || !od.at("nesterov").isBool()) fail(path, "field 'optimizer.nesterov' is missing");
    snap.config.nesterov = od.at("nesterov").toBool();
    snap.iterations = od.at("iterations").toInt();
    if (slots.isTensorList()) {
      for (const auto& t : slots.toTensorList()) snap.slots.push_back(t);
    } else {
      for (const auto& item : slots.toListRef()) {
        if (!item.isTensor()) fail(path, "field 'optimizer.slots' holds a non-tensor entry");
        snap.slots.push_back(item.toTensor());
      }
    }
    c.optimizer = std::move(snap);
  }
  return c;
}

void load_state_dict(Classifier& model, const std::vector<std::pair<std::string, torch::Tensor>>& state,
                     const std::string& path) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  auto check = [&](const std::string& name, const torch::Tensor& target) {
    auto it = by_name.find(name);
    if (it == by_name.end()) fail(path, "state_dict lacks '" + name + "' (another architecture?)");
    if (it->second.sizes() != target.sizes()) {
      fail(path, "state_dict entry '" + name + "' has shape " + c10::str(it->second.sizes()) + ", the model expects " +
                     c10::str(target.sizes()));
    }
    copies.emplace_back(target, it->second);
    by_name.erase(it);
  };
  for (const auto& item : model.named_parameters()) check(item.key(), item.value());
  for (const auto& item : model.named_buffers()) check(item.key(), item.value());
  if (!by_name.empty()) fail(path, "state_dict has an entry the model lacks: '" + by_name.begin()->first + "'");
  // Only after every check passed: nothing is half-loaded on error.
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target.copy_(source.to(target.device(), target.dtype()));
}

}  // namespace torchfit
