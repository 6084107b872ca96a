// The Extism kernel region: handles, reuse of freed blocks, coalescing, bounds, the budget.
#include "hostabi/kernel_region.h"

#include <gtest/gtest.h>

#include <cstring>

namespace warden::extism {
namespace {

TEST(KernelRegion, AllocZeroIsNullAndHandlesStartPastNull) {
  KernelRegion r;
  EXPECT_EQ(r.alloc(0), 0u);
  const uint64_t h = r.alloc(5);
  EXPECT_EQ(h, KernelRegion::kFirstHandle);
  EXPECT_EQ(r.length(h), 5u);
  EXPECT_EQ(r.length(0), 0u);
  EXPECT_EQ(r.length(h + 1), 0u);  // not the start of a block
}

TEST(KernelRegion, FreedBlocksAreReusedAndZeroed) {
  KernelRegion r;
  const uint64_t a = r.alloc(100), b = r.alloc(100);
  ASSERT_NE(a, 0u);
  std::memset(r.at(a), 0xAB, 100);
  r.free(a);
  EXPECT_EQ(r.length(a), 0u);
  const uint64_t c = r.alloc(40);  // best fit: the freed block, split
  EXPECT_EQ(c, a);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(r.at(c)[i], 0) << i;
  const uint64_t d = r.alloc(56);  // the rest of it (104 - 40 = 64 bytes left, 8-aligned)
  EXPECT_EQ(d, a + 40);
  EXPECT_LT(d, b);
  EXPECT_EQ(r.live_blocks(), 3u);
}

TEST(KernelRegion, NeighboursCoalesceAndTheTopReturnsToTheBumpPointer) {
  KernelRegion r;
  const uint64_t a = r.alloc(64), b = r.alloc(64), c = r.alloc(64);
  r.free(a);
  r.free(b);  // a+b merge into one 128-byte free block
  EXPECT_EQ(r.alloc(128), a);
  r.free(c);  // the last block: the bump pointer moves back
  EXPECT_EQ(r.alloc(200), c);
  EXPECT_FALSE(r.in_bounds(c + 200, 8));
}

TEST(KernelRegion, DoubleFreeAndForgedFreeAreIgnored) {
  KernelRegion r;
  const uint64_t a = r.alloc(16), b = r.alloc(16);
  r.free(a);
  r.free(a);
  r.free(a + 8);
  r.free(12345678);
  r.free(0);
  EXPECT_EQ(r.length(b), 16u);
  EXPECT_EQ(r.live_blocks(), 1u);
}

TEST(KernelRegion, BoundsRejectWrapAroundAndTheReservedHead) {
  KernelRegion r;
  r.alloc(32);
  EXPECT_TRUE(r.in_bounds(KernelRegion::kFirstHandle, 32));
  EXPECT_FALSE(r.in_bounds(KernelRegion::kFirstHandle, 33));
  EXPECT_FALSE(r.in_bounds(0, 1));
  EXPECT_FALSE(r.in_bounds(~uint64_t{0} - 3, 8));
  EXPECT_FALSE(r.in_bounds(KernelRegion::kFirstHandle + 8, ~uint64_t{0}));
}

TEST(KernelRegion, GrowthIsChargedToTheBudgetInPages) {
  MemoryBudget budget = MemoryBudget::of_pages(2);
  KernelRegion r(&budget);
  EXPECT_NE(r.alloc(60000), 0u);  // 1 page (bytes and bookkeeping)
  EXPECT_EQ(budget.used, 65536u);
  EXPECT_NE(r.alloc(60000), 0u);  // crosses into page 2
  EXPECT_EQ(budget.used, 2 * 65536u);
  EXPECT_EQ(r.alloc(60000), 0u);  // a third page: refused
  EXPECT_TRUE(r.budget_exhausted());
  r.reset();  // what was charged stays paid for
  EXPECT_NE(r.alloc(120000), 0u);
  EXPECT_EQ(budget.used, 2 * 65536u);
  EXPECT_EQ(r.alloc(KernelRegion::kMaxBytes + 1), 0u);
}

// 1-byte blocks under a 1 MiB budget: each costs its 8 bytes and its bookkeeping, so the count is
// bounded by the budget, not by the region's byte size (before: ~130k blocks, ~10 MB of maps).
TEST(KernelRegion, TinyBlocksPayForTheirBookkeeping) {
  MemoryBudget budget = MemoryBudget::of_pages(16);
  KernelRegion r(&budget);
  size_t blocks = 0;
  while (r.alloc(1) != 0) ++blocks;
  EXPECT_TRUE(r.budget_exhausted());
  EXPECT_LE(blocks, (16u << 16) / (8 + KernelRegion::kBlockBookkeeping));
  EXPECT_GE(blocks, (15u << 16) / (8 + KernelRegion::kBlockBookkeeping));
  EXPECT_LE(budget.used, budget.limit);
}

TEST(KernelRegion, LiveBlocksAreCappedWithoutABudget) {
  KernelRegion r;
  size_t blocks = 0;
  while (r.alloc(1) != 0) ++blocks;
  EXPECT_EQ(blocks, KernelRegion::kMaxLiveBlocks);
  EXPECT_FALSE(r.budget_exhausted());
  r.free(KernelRegion::kFirstHandle);
  EXPECT_EQ(r.alloc(1), KernelRegion::kFirstHandle);  // one freed, one more fits
}

// A reused block is zeroed whole, padding included: a load_u64 at its last byte (in bounds of
// the region) must not read an earlier block's bytes.
TEST(KernelRegion, ReusedBlocksAreZeroedIncludingPadding) {
  KernelRegion r;
  const uint64_t a = r.alloc(16);
  std::memset(r.at(a), 0xAB, 16);
  const uint64_t keep = r.alloc(8);  // keeps `a` from returning to the bump pointer
  r.free(a);
  const uint64_t b = r.alloc(9);  // rounds to 16, best fit: a's bytes
  ASSERT_EQ(b, a);
  ASSERT_NE(keep, 0u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(r.at(b)[i], 0) << "byte " << i;
  r.reset();
  const uint64_t c = r.alloc(3);
  std::memset(r.at(c), 0xCD, 8);
  r.reset();
  const uint64_t d = r.alloc(1);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(r.at(d)[i], 0) << "byte " << i;
}

TEST(KernelRegion, ResetKillsEveryHandle) {
  KernelRegion r;
  const uint64_t a = r.alloc(10);
  r.reset();
  EXPECT_EQ(r.length(a), 0u);
  EXPECT_FALSE(r.in_bounds(a, 1));
  EXPECT_EQ(r.alloc(10), a);
}

}  // namespace
}  // namespace warden::extism
