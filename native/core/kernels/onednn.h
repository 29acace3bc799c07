// oneDNN plumbing shared by the engine's ops (only compiled with TORCHFIT_WITH_DNNL):
// one engine, a stream per thread, primitives cached by problem, memory objects over
// libtorch tensors and a per-thread scratchpad.
//
// Why a cache of our own: creating a primitive descriptor costs tens of microseconds (oneDNN
// picks a kernel and its blocking), and a ResNet-20 step runs ~150 primitives. Keys hold every
// dimension, the flags and the thread count (oneDNN splits work by the count at creation).
// Why user scratchpads: oneDNN's default one is global to the library, unsafe when two
// trainings run at once in one process; ours belongs to the calling thread.
#pragma once

#if defined(TORCHFIT_WITH_DNNL)

#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <torch/types.h>
#include <unordered_map>
#include <vector>

namespace torchfit::kernels::onednn {

using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

const dnnl::engine& engine();
dnnl::stream& stream();  // this thread's
int threads();           // what oneDNN will use on this thread (OpenMP's max threads)

// The blocked activation tag (nChw16c or nChw8c) and its block.
tag blocked_tag();
int64_t block();

// f32 descriptors.
dnnl::memory::desc desc(const dims& d, tag t);
// x's own layout: blocked when 5-d, NCHW when 4-d; `channels` is the logical C.
dnnl::memory::desc activation_desc(const torch::Tensor& x, int64_t channels);
// Blocked (N, C, H, W) as a torch shape (N, ceil(C/B), H, W, B).
std::vector<int64_t> blocked_shape(int64_t n, int64_t c, int64_t h, int64_t w);

dnnl::memory memory(const dnnl::memory::desc& d, const torch::Tensor& t);
// A float32 tensor holding exactly d (recycled when large).
torch::Tensor empty_for(const dnnl::memory::desc& d);

// The scratchpad this thread lends to the primitive about to run.
dnnl::memory scratchpad(const dnnl::memory::desc& d);
// Attributes every engine primitive starts from (user scratchpad).
dnnl::primitive_attr base_attr();

// Primitive + its descriptor, created once per key.
struct Entry {
  dnnl::primitive prim;
  dnnl::memory::desc scratch;
  std::vector<dnnl::memory::desc> extra;  // op-specific descriptors the caller needs again
};
using Builder = std::function<Entry()>;
std::shared_ptr<const Entry> cached(const std::string& key, const Builder& build);

// Copies src into dst's layout (a cached reorder); no-op when the layouts match and the tensors are the same.
void reorder(const dnnl::memory::desc& from, const torch::Tensor& src, const dnnl::memory::desc& to, const torch::Tensor& dst);

// Runs a primitive with its scratchpad on this thread's stream and waits.
void execute(const Entry& e, std::unordered_map<int, dnnl::memory> args);

// Readable key pieces.
std::string key_of(const dnnl::memory::desc& d);

}  // namespace torchfit::kernels::onednn

#endif
