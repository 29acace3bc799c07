#include "core/kernels/buffer_pool.h"

#include <algorithm>
#include <cstdlib>
#include <list>
#include <mutex>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <utility>

namespace torchfit::kernels {
namespace {

// glibc's malloc serves smaller blocks from its heaps without new page faults; from its
// default mmap threshold up it maps and unmaps them, or trims its heap under them.
constexpr size_t kMinBytes = size_t{128} << 10;
// Blocks from 2 MiB up start on a 2 MiB boundary and ask for transparent huge pages: the
// convolutions walk 6-14 MB activations, and on 4 KiB pages their TLB misses cost a ResNet-20
// step about 7 % (measured side by side; Linux's default THP mode, madvise, needs the ask).
// Only whole huge pages inside the block are advised, so RSS does not grow.
constexpr size_t kHugePage = size_t{2} << 20;

void* allocate(size_t bytes) {
  void* p = nullptr;
  const bool huge = bytes >= kHugePage;
  if (posix_memalign(&p, huge ? kHugePage : 64, bytes) != 0) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, bytes & ~(kHugePage - 1), MADV_HUGEPAGE);  // a hint: failure changes nothing
#endif
  return p;
}
// Idle memory cap: at least 256 MiB, and at least a quarter more than the most the running
// jobs have had in use at once. A training step takes back what the step before it gave, size
// by size, and each size peaks at its own moment, so the blocks a step needs add up to a few
// percent more than the largest total in use (ResNet-44: 352 against 332 MB). With a fixed
// 256 MiB cap the pool evicted the blocks the backward pass had freed first, the last stage's,
// and every forward page-faulted them in again (ResNet-44: 4,088 faults a step, the 7x7
// stage's BatchNorm and Winograd outputs 2-3x slower). Beyond the cap the least recently freed
// go back to the system (the blocks of a smaller last batch, of another job's sizes).
constexpr size_t kMinIdleCapBytes = size_t{256} << 20;

class Pool {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (it->first != bytes) continue;
        void* p = it->second;
        idle_bytes_ -= bytes;
        idle_.erase(it);
        note_in_use(bytes);
        return p;
      }
    }
    void* p = allocate(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    note_in_use(bytes);
    return p;
  }

  void give(void* p, size_t bytes) {
    std::list<std::pair<size_t, void*>> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle_.emplace_front(bytes, p);  // most recent first: reused first, evicted last
      idle_bytes_ += bytes;
      in_use_bytes_ -= bytes;
      const size_t cap = std::max(kMinIdleCapBytes, peak_in_use_bytes_ + peak_in_use_bytes_ / 4);
      while (idle_bytes_ > cap) {
        idle_bytes_ -= idle_.back().first;
        evicted.splice(evicted.end(), idle_, std::prev(idle_.end()));
      }
    }
    for (auto& block : evicted) std::free(block.second);
  }

  void begin_job() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++jobs_;
  }

  // Frees the idle blocks when the last running job ends.
  void end_job() {
    std::list<std::pair<size_t, void*>> all;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--jobs_ > 0) return;
      all.swap(idle_);
      idle_bytes_ = 0;
      peak_in_use_bytes_ = in_use_bytes_;
    }
    for (auto& block : all) std::free(block.second);
  }

 private:
  void note_in_use(size_t bytes) {  // with mutex_ held
    in_use_bytes_ += bytes;
    peak_in_use_bytes_ = std::max(peak_in_use_bytes_, in_use_bytes_);
  }

  std::mutex mutex_;
  std::list<std::pair<size_t, void*>> idle_;
  size_t idle_bytes_ = 0;
  size_t in_use_bytes_ = 0;       // blocks handed out and not yet given back
  size_t peak_in_use_bytes_ = 0;  // since no job last ran: the running jobs' working set
  int jobs_ = 0;
};

// Never destroyed: tensors may die during static destruction.
Pool& pool() {
  static Pool* instance = new Pool();
  return *instance;
}

}  // namespace

torch::Tensor recycled_empty(at::IntArrayRef sizes) {
  int64_t numel = 1;
  for (const auto s : sizes) numel *= s;
  const size_t bytes = static_cast<size_t>(numel) * sizeof(float);
  if (bytes < kMinBytes) return torch::empty(sizes, torch::kFloat32);
  void* p = pool().take(bytes);
  return torch::from_blob(p, sizes, [bytes](void* q) { pool().give(q, bytes); }, torch::kFloat32);
}

RecycledJob::RecycledJob() { pool().begin_job(); }
RecycledJob::~RecycledJob() { pool().end_job(); }

}  // namespace torchfit::kernels
