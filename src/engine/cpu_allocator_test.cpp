// The engine's CPU allocator: large blocks reused by size class, within its limit, given back
// on Release; small blocks and the raw interface pass through.
#include "engine/cpu_allocator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace wanserve::engine {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(CachingCpuAllocatorTest, SizeClassesCoverTheRequestWithinAnEighth) {
  for (size_t bytes : {kMiB, kMiB + 1, 3 * kMiB + 12345, 100 * kMiB - 1, (size_t{5} << 30) + 7}) {
    const size_t served = CachingCpuAllocator::SizeClass(bytes);
    EXPECT_GE(served, bytes);
    EXPECT_LE(served, bytes + bytes / 8) << bytes;
  }
  // Shapes a few rows apart share a block.
  EXPECT_EQ(CachingCpuAllocator::SizeClass(40 * kMiB), CachingCpuAllocator::SizeClass(40 * kMiB - 4096));
}

TEST(CachingCpuAllocatorTest, AFreedLargeBlockServesTheNextRequestOfItsClass) {
  CachingCpuAllocator allocator(64 * kMiB);
  void* first = nullptr;
  {
    c10::DataPtr block = allocator.allocate(8 * kMiB);
    first = block.get();
    std::memset(first, 1, 8 * kMiB);  // writable over its whole length
    EXPECT_EQ(allocator.stats().live_bytes, 8 * kMiB);
  }
  EXPECT_EQ(allocator.stats().cached_bytes, 8 * kMiB);
  EXPECT_EQ(allocator.stats().live_bytes, 0u);
  c10::DataPtr again = allocator.allocate(8 * kMiB - 100);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(again.get()) % 64, 0u);
  c10::DataPtr other = allocator.allocate(16 * kMiB);
  EXPECT_NE(other.get(), first);
  const CpuCacheStats stats = allocator.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.cached_bytes, 0u);
}

TEST(CachingCpuAllocatorTest, SmallAndEmptyBlocksAreNotCached) {
  CachingCpuAllocator allocator(64 * kMiB);
  { c10::DataPtr small = allocator.allocate(4096); }
  { c10::DataPtr empty = allocator.allocate(0); EXPECT_EQ(empty.get(), nullptr); }
  const CpuCacheStats stats = allocator.stats();
  EXPECT_EQ(stats.hits + stats.misses, 0);
  EXPECT_EQ(stats.cached_bytes, 0u);
}

TEST(CachingCpuAllocatorTest, TheCacheStaysWithinItsLimitDroppingTheOldestFirst) {
  CachingCpuAllocator allocator(10 * kMiB);
  c10::DataPtr a = allocator.allocate(4 * kMiB);
  c10::DataPtr b = allocator.allocate(5 * kMiB);
  c10::DataPtr c = allocator.allocate(3 * kMiB);
  void* b_data = b.get();
  void* c_data = c.get();
  a.clear();  // freed first: oldest
  b.clear();
  c.clear();  // 12 MiB freed in all: a (4) must go
  EXPECT_EQ(allocator.stats().cached_bytes, 8 * kMiB);
  c10::DataPtr a2 = allocator.allocate(4 * kMiB);
  c10::DataPtr b2 = allocator.allocate(5 * kMiB);
  c10::DataPtr c2 = allocator.allocate(3 * kMiB);
  EXPECT_EQ(b2.get(), b_data);
  EXPECT_EQ(c2.get(), c_data);
  EXPECT_EQ(allocator.stats().hits, 2);

  // A block larger than the whole cache is never kept.
  { c10::DataPtr huge = allocator.allocate(20 * kMiB); }
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
}

TEST(CachingCpuAllocatorTest, LoweringTheLimitFreesTheOldestAndZeroTurnsCachingOff) {
  CachingCpuAllocator allocator(64 * kMiB);
  { c10::DataPtr a = allocator.allocate(4 * kMiB), b = allocator.allocate(3 * kMiB); }  // b freed first
  ASSERT_EQ(allocator.stats().cached_bytes, 7 * kMiB);
  allocator.SetLimit(5 * kMiB);
  EXPECT_EQ(allocator.stats().cached_bytes, 4 * kMiB) << "b, the older, went";
  allocator.SetLimit(0);
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
  { c10::DataPtr c = allocator.allocate(2 * kMiB); }
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
  EXPECT_EQ(allocator.stats().misses, 2) << "uncached blocks are not counted";
}

TEST(CachingCpuAllocatorTest, ReleaseGivesEveryCachedBlockBack) {
  CachingCpuAllocator allocator(64 * kMiB);
  { c10::DataPtr a = allocator.allocate(2 * kMiB), b = allocator.allocate(3 * kMiB); }
  EXPECT_EQ(allocator.stats().cached_bytes, 5 * kMiB);
  allocator.Release();
  EXPECT_EQ(allocator.stats().cached_bytes, 0u);
  c10::DataPtr fresh = allocator.allocate(2 * kMiB);
  EXPECT_EQ(allocator.stats().hits, 0);
}

TEST(CachingCpuAllocatorTest, TheRawInterfaceWorksForSmallAndLargeBlocks) {
  CachingCpuAllocator allocator(64 * kMiB);
  void* small = allocator.raw_allocate(100);
  void* large = allocator.raw_allocate(2 * kMiB);
  allocator.raw_deallocate(small);
  allocator.raw_deallocate(large);
  EXPECT_EQ(allocator.stats().cached_bytes, 2 * kMiB);
}

TEST(CachingCpuAllocatorTest, UseAfterFreeOfACachedBlockIsStillReportedUnderAddressSanitizer) {
#if defined(__SANITIZE_ADDRESS__)
  CachingCpuAllocator allocator(64 * kMiB);
  EXPECT_DEATH(
      {
        c10::DataPtr block = allocator.allocate(2 * kMiB);
        volatile char* data = static_cast<char*>(block.get());
        block.clear();
        data[100] = 1;
      },
      "use-after-poison");
#else
  GTEST_SKIP() << "only sanitizer builds can see poisoned memory";
#endif
}

TEST(CachingCpuAllocatorTest, InstalledItServesLibtorchAndResultsAreUnchanged) {
  at::NoGradGuard no_grad;
  const at::Tensor input = at::randn({1, 8, 4, 64, 64});
  const at::Tensor weight = at::randn({8, 8, 3, 3, 3});
  const at::Tensor before = at::conv3d(input, weight);  // through libtorch's own allocator
  CachingCpuAllocator& cache = CachingCpuAllocator::Installed();
  cache.Release();
  const CpuCacheStats start = cache.stats();
  for (int i = 0; i < 3; ++i) {
    // Reused blocks hold the previous run's values; the result must not see them.
    EXPECT_TRUE(at::equal(at::conv3d(input, weight), before));
  }
  const CpuCacheStats end = cache.stats();
  EXPECT_GT(end.misses, start.misses);
  EXPECT_GT(end.hits, start.hits) << "the second and third convolutions reuse the first's columns";
  cache.Release();
  EXPECT_EQ(cache.stats().cached_bytes, 0u);
}

}  // namespace
}  // namespace wanserve::engine
