#include "core/kernels/onednn.h"

#include "core/kernels/engine.h"

#if defined(TORCHFIT_WITH_DNNL)

#include <mutex>
#include <omp.h>
#include <sstream>
#include <unordered_map>

#include "core/kernels/buffer_pool.h"

namespace torchfit::kernels::onednn {
namespace {

// What the process can run, decided once: the library loaded must be the one the build saw
// (another copy, e.g. one bundled in a pip libtorch, could answer the same symbols), it must
// run on OpenMP like libtorch (so the thread count means the same), and it must have a JIT
// convolution for this CPU, whose preferred activation layout gives the block.
struct Probe {
  bool ok = false;
  int64_t block = 0;
  std::string description;
};

Probe probe() {
  Probe p;
  const auto* v = dnnl_version();
  std::ostringstream version;
  version << v->major << "." << v->minor << "." << v->patch;
  if (v->major != DNNL_VERSION_MAJOR || v->minor != DNNL_VERSION_MINOR) {
    p.description = "off: oneDNN " + version.str() + " loaded, built against " + std::to_string(DNNL_VERSION_MAJOR) +
                    "." + std::to_string(DNNL_VERSION_MINOR);
    return p;
  }
  if (v->cpu_runtime != DNNL_RUNTIME_OMP) {
    p.description = "off: oneDNN " + version.str() + " does not use OpenMP threads";
    return p;
  }
  try {
    const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    const auto any = [](const dims& d) { return dnnl::memory::desc(d, dnnl::memory::data_type::f32, tag::any); };
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            any({2, 32, 8, 8}), any({32, 32, 3, 3}), any({2, 32, 8, 8}), {1, 1},
                                            {1, 1}, {1, 1});
    const dnnl::convolution_forward::primitive_desc pd(d, eng);
    const std::string impl = pd.impl_info_str();
    const auto& blocking = pd.src_desc().data.format_desc.blocking;
    if (impl.rfind("jit", 0) != 0 || blocking.inner_nblks != 1 || blocking.inner_idxs[0] != 1 ||
        (blocking.inner_blks[0] != 8 && blocking.inner_blks[0] != 16)) {
      p.description = "off: oneDNN " + version.str() + " has no blocked JIT convolution for this CPU (" + impl + ")";
      return p;
    }
    p.block = blocking.inner_blks[0];
    p.ok = true;
    // "jit:avx512_core" -> "avx512_core"
    const auto colon = impl.find(':');
    p.description = "onednn " + version.str() + " " + (colon == std::string::npos ? impl : impl.substr(colon + 1)) +
                    " (nChw" + std::to_string(p.block) + "c)";
  } catch (const dnnl::error& e) {
    p.description = std::string("off: oneDNN failed its probe: ") + e.what();
  }
  return p;
}

const Probe& probed() {
  static const Probe p = probe();
  return p;
}

class Cache {
 public:
  std::shared_ptr<const Entry> get(const std::string& key, const Builder& build) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto entry = std::make_shared<const Entry>(build());  // outside the lock: creation is slow
    std::lock_guard<std::mutex> lock(mutex_);
    // A bound for long-lived processes that see many shapes; a step needs far fewer.
    if (map_.size() >= 4096) map_.clear();
    return map_.emplace(key, entry).first->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> map_;
};

Cache& cache() {
  static auto* c = new Cache();  // never destroyed: primitives may be in use at exit
  return *c;
}

}  // namespace

const dnnl::engine& engine() {
  static const auto* eng = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *eng;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

int threads() { return omp_get_max_threads(); }

tag blocked_tag() { return probed().block == 16 ? tag::nChw16c : tag::nChw8c; }
int64_t block() { return probed().block; }

dnnl::memory::desc desc(const dims& d, tag t) { return dnnl::memory::desc(d, dnnl::memory::data_type::f32, t); }

dnnl::memory::desc activation_desc(const torch::Tensor& x, int64_t channels) {
  const dims d{x.size(0), channels, x.size(2), x.size(3)};
  return desc(d, x.dim() == 5 ? blocked_tag() : tag::nchw);
}

std::vector<int64_t> blocked_shape(int64_t n, int64_t c, int64_t h, int64_t w) {
  const int64_t b = block();
  return {n, (c + b - 1) / b, h, w, b};
}

dnnl::memory memory(const dnnl::memory::desc& d, const torch::Tensor& t) {
  return dnnl::memory(d, engine(), const_cast<void*>(t.data_ptr()));
}

torch::Tensor empty_for(const dnnl::memory::desc& d) {
  return recycled_empty({static_cast<int64_t>(d.get_size() / sizeof(float))});
}

dnnl::memory scratchpad(const dnnl::memory::desc& d) {
  thread_local torch::Tensor buffer;
  const int64_t floats = static_cast<int64_t>(d.get_size() / sizeof(float)) + 1;
  if (!buffer.defined() || buffer.numel() < floats) buffer = torch::empty({floats}, torch::kFloat32);
  return dnnl::memory(d, engine(), buffer.data_ptr());
}

dnnl::primitive_attr base_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::shared_ptr<const Entry> cached(const std::string& key, const Builder& build) {
  return cache().get(key + "|t" + std::to_string(threads()), build);
}

std::string key_of(const dnnl::memory::desc& d) {
  const auto& m = d.data;
  std::ostringstream out;
  out << m.ndims << ':' << m.data_type << ':' << m.format_kind << '[';
  for (int i = 0; i < m.ndims; ++i) out << m.dims[i] << ',' << m.padded_dims[i] << ',' << m.format_desc.blocking.strides[i] << ';';
  out << ']';
  for (int i = 0; i < m.format_desc.blocking.inner_nblks; ++i) {
    out << m.format_desc.blocking.inner_blks[i] << 'x' << m.format_desc.blocking.inner_idxs[i] << ';';
  }
  return out.str();
}

void execute(const Entry& e, std::unordered_map<int, dnnl::memory> args) {
  args.emplace(DNNL_ARG_SCRATCHPAD, scratchpad(e.scratch));
  e.prim.execute(stream(), args);
  stream().wait();
}

void reorder(const dnnl::memory::desc& from, const torch::Tensor& src, const dnnl::memory::desc& to,
             const torch::Tensor& dst) {
  const auto entry = cached("reorder|" + key_of(from) + "|" + key_of(to), [&] {
    const dnnl::reorder::primitive_desc pd(engine(), from, engine(), to, base_attr());
    return Entry{dnnl::reorder(pd), pd.scratchpad_desc(), {}};
  });
  execute(*entry, {{DNNL_ARG_FROM, memory(from, src)}, {DNNL_ARG_TO, memory(to, dst)}});
}

}  // namespace torchfit::kernels::onednn

namespace torchfit::kernels {

bool engine_available() { return onednn::probed().ok; }
int64_t engine_block() { return onednn::probed().ok ? onednn::probed().block : 0; }
std::string engine_description() { return onednn::probed().description; }

}  // namespace torchfit::kernels

#else

namespace torchfit::kernels {

bool engine_available() { return false; }
int64_t engine_block() { return 0; }
std::string engine_description() { return "off: built without oneDNN (install libdnnl-dev and rebuild)"; }

}  // namespace torchfit::kernels

#endif
