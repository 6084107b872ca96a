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
  MemoryBudget budget;
  budget.pages_left = 2;
  KernelRegion r(&budget);
  EXPECT_NE(r.alloc(60000), 0u);   // 1 page
  EXPECT_EQ(budget.pages_left, 1u);
  EXPECT_NE(r.alloc(60000), 0u);   // crosses into page 2
  EXPECT_EQ(budget.pages_left, 0u);
  EXPECT_EQ(r.alloc(60000), 0u);   // a third page: refused
  EXPECT_TRUE(r.budget_exhausted());
  r.reset();                       // capacity stays, already paid for
  EXPECT_NE(r.alloc(120000), 0u);
  EXPECT_EQ(r.alloc(KernelRegion::kMaxBytes + 1), 0u);
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
