#pragma once
// A CPU allocator for libtorch that keeps large freed blocks for reuse.
//
// Every denoising step and every VAE chunk allocates the same large temporaries again (im2col
// columns, attention scores, FFN activations). Through the process allocator each one is fresh
// memory from the OS, paid for with a page fault and a zeroed page per 4 KiB on every use:
// 1.2M faults per tiny VAE decode. PyTorch keeps such blocks on GPUs (its CUDA caching
// allocator); this does the same on the CPU, bounded so it never holds more than `limit` bytes
// that no tensor uses.
#include <c10/core/Allocator.h>

#include <cstddef>
#include <memory>

#include "engine/torch_compat.h"

namespace wanserve::engine {

struct CpuCacheStats {
  int64_t hits = 0;          // large allocations served from the cache
  int64_t misses = 0;        // large allocations that went to the system
  size_t cached_bytes = 0;   // held for reuse, used by no tensor
  size_t live_bytes = 0;     // large blocks in use by tensors
};

class CachingCpuAllocator final : public c10::Allocator {
 public:
  // Blocks below this size go straight to the system allocator, which serves them well.
  static constexpr size_t kMinCachedBytes = size_t{1} << 20;

  explicit CachingCpuAllocator(size_t limit);
  CachingCpuAllocator(const CachingCpuAllocator&) = delete;
  CachingCpuAllocator& operator=(const CachingCpuAllocator&) = delete;
  // Frees the cache. Every tensor it allocated must be gone by then; Installed() is never
  // destroyed.
  ~CachingCpuAllocator() override;

  c10::DataPtr allocate(size_t bytes) WANSERVE_ALLOCATOR_CONST override;
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }
  // Pure virtual from libtorch 2.3 on; a plain member before.
  void copy_data(void* dest, const void* src, std::size_t count) const;

  // Blocks above it are not cached; cached ones over it are freed, oldest first.
  void SetLimit(size_t limit);
  // Gives every cached block back to the system. Called after each generation, so an idle
  // server holds nothing no tensor uses.
  void Release();
  CpuCacheStats stats() const;

  // The size a request is served with: 1/8-of-a-power-of-two steps, so near-equal shapes share
  // blocks at no more than 12.5% slack.
  static size_t SizeClass(size_t bytes);

  // The process-wide instance, made libtorch's CPU allocator on first call, with the limit of
  // GeneratorOptions::cpu_cache_mb's default until a model sets its own.
  static CachingCpuAllocator& Installed();

 private:
  struct State;
  // Every block starts with a header naming its cache and size class (0: not cached), so the
  // one deleter libtorch keeps (ctx == data, as its raw interface requires) finds both.
  static void Delete(void* data);

  // Behind a pointer: allocate() is const before libtorch 2.3, and the cache changes.
  std::unique_ptr<State> state_;
};

}  // namespace wanserve::engine
