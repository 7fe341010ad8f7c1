#include "engine/cpu_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <sanitizer/asan_interface.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <list>
#include <map>
#include <mutex>

#include "engine/engine.h"

namespace wanserve::engine {
namespace {

// Keeps the data at libtorch's 64-byte alignment behind the header.
constexpr size_t kHeaderBytes = 64;

struct Cached {
  void* block;
  size_t bytes;
};

void* DataOf(void* block) { return static_cast<char*>(block) + kHeaderBytes; }

// A cached block is poisoned for AddressSanitizer, so a tensor used after its free is still
// reported in sanitizer builds although the memory is not given back (no-ops otherwise).
void Poison(const Cached& c) { ASAN_POISON_MEMORY_REGION(DataOf(c.block), c.bytes); }
void Unpoison(const Cached& c) { ASAN_UNPOISON_MEMORY_REGION(DataOf(c.block), c.bytes); }

void FreeAll(const std::list<Cached>& blocks) {
  for (const Cached& c : blocks) {
    Unpoison(c);
    c10::free_cpu(c.block);
  }
}

}  // namespace

struct CachingCpuAllocator::State {
  struct Header {
    State* owner;
    size_t bytes;  // the size class; 0 for a block that is not cached
  };

  explicit State(size_t l) : limit(l) {}

  size_t Limit() const {
    std::lock_guard lock(mu);
    return limit;
  }

  // A cached block of exactly this class, newest first; nullptr on a miss.
  void* Take(size_t bytes) {
    std::lock_guard lock(mu);
    auto [first, last] = by_size.equal_range(bytes);
    if (first == last) {
      ++stats.misses;
      return nullptr;
    }
    const auto entry = std::prev(last);
    void* block = entry->second->block;
    Unpoison(*entry->second);
    lru.erase(entry->second);
    by_size.erase(entry);
    ++stats.hits;
    stats.cached_bytes -= bytes;
    stats.live_bytes += bytes;
    return block;
  }

  void CountLive(size_t bytes) {
    std::lock_guard lock(mu);
    stats.live_bytes += bytes;
  }

  void Return(void* block, size_t bytes) {
    std::list<Cached> evicted;
    {
      std::lock_guard lock(mu);
      stats.live_bytes -= bytes;
      lru.push_front({block, bytes});
      Poison(lru.front());
      by_size.emplace(bytes, lru.begin());
      stats.cached_bytes += bytes;
      EvictOverLimit(evicted);
    }
    FreeAll(evicted);
  }

  void SetLimit(size_t bytes) {
    std::list<Cached> evicted;
    {
      std::lock_guard lock(mu);
      limit = bytes;
      EvictOverLimit(evicted);
    }
    FreeAll(evicted);
  }

  // Oldest first: the blocks no step or chunk asks for any more. A class's blocks are taken
  // from the back of its range and added there, so its oldest is the first.
  // REQUIRES: mu held.
  void EvictOverLimit(std::list<Cached>& evicted) {
    while (stats.cached_bytes > limit) {
      by_size.erase(by_size.lower_bound(lru.back().bytes));
      stats.cached_bytes -= lru.back().bytes;
      evicted.splice(evicted.end(), lru, std::prev(lru.end()));
    }
  }

  void Release() {
    std::list<Cached> all;
    {
      std::lock_guard lock(mu);
      all.swap(lru);
      by_size.clear();
      stats.cached_bytes = 0;
    }
    FreeAll(all);
  }

  mutable std::mutex mu;
  size_t limit;
  std::list<Cached> lru;  // front: freed last
  std::multimap<size_t, std::list<Cached>::iterator> by_size;
  CpuCacheStats stats;
};

CachingCpuAllocator::CachingCpuAllocator(size_t limit) : state_(std::make_unique<State>(limit)) {}

CachingCpuAllocator::~CachingCpuAllocator() { state_->Release(); }

size_t CachingCpuAllocator::SizeClass(size_t bytes) {
  const size_t step = std::max<size_t>(std::bit_floor(bytes) / 8, 1);
  return (bytes + step - 1) / step * step;
}

c10::DataPtr CachingCpuAllocator::allocate(size_t bytes) WANSERVE_ALLOCATOR_CONST {
  const c10::Device cpu(c10::DeviceType::CPU);
  if (bytes == 0) return {nullptr, nullptr, &Delete, cpu};
  // Larger than the cache may hold: cached, it would only be freed again at once.
  const size_t cached = bytes >= kMinCachedBytes && SizeClass(bytes) <= state_->Limit() ? SizeClass(bytes) : 0;
  void* block = cached != 0 ? state_->Take(cached) : nullptr;
  if (block == nullptr) {
    const size_t size = kHeaderBytes + (cached != 0 ? cached : bytes);
    try {
      block = c10::alloc_cpu(size);
    } catch (const c10::Error&) {
      // Out of memory: what the cache holds may be what is missing.
      state_->Release();
      block = c10::alloc_cpu(size);
    }
    if (cached != 0) state_->CountLive(cached);
  }
  *static_cast<State::Header*>(block) = {state_.get(), cached};
  void* data = DataOf(block);
  return {data, data, &Delete, cpu};
}

void CachingCpuAllocator::Delete(void* data) {
  if (data == nullptr) return;
  void* block = static_cast<char*>(data) - kHeaderBytes;
  const State::Header header = *static_cast<State::Header*>(block);
  if (header.bytes == 0) {
    c10::free_cpu(block);
  } else {
    header.owner->Return(block, header.bytes);
  }
}

void CachingCpuAllocator::copy_data(void* dest, const void* src, std::size_t count) const {
  std::memcpy(dest, src, count);
}

void CachingCpuAllocator::SetLimit(size_t limit) { state_->SetLimit(limit); }

void CachingCpuAllocator::Release() { state_->Release(); }

CpuCacheStats CachingCpuAllocator::stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

CachingCpuAllocator& CachingCpuAllocator::Installed() {
  static CachingCpuAllocator* const installed = [] {
    auto* allocator = new CachingCpuAllocator(static_cast<size_t>(GeneratorOptions{}.cpu_cache_mb) << 20);
    // Above the default allocator's priority (0), so libtorch's own registration never wins.
    c10::SetCPUAllocator(allocator, 1);
    return allocator;
  }();
  return *installed;
}

}  // namespace wanserve::engine
