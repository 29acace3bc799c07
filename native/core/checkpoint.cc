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
  // The presets' BatchNorm momentum, PyTorch's terms (absent in older files: Keras's 0.99, i.e. 0.01).
  if (c.model.kind != ModelKind::Layers) model.insert("bn_momentum", c.model.bn_momentum);
  root.insert("model", model);
  root.insert("state_dict", state);
  if (c.optimizer) {
    c10::impl::GenericDict opt(c10::StringType::get(), c10::AnyType::get());
    const auto& oc = c.optimizer->config;
    opt.insert("name", std::string(optimizer_name(oc.kind)));
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

}  // namespace torchfit
