#include "examples/bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace grpc_bypass::bench {
namespace {

uint64_t ExactPercentile(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * v.size())));
  return v[rank - 1];
}

TEST(Histogram, BucketsTileTheValueRangeWithoutGapsOrOverlap) {
  for (size_t i = 0; i + 1 < 7000; ++i) {
    ASSERT_EQ(Histogram::LowestOf(i) + Histogram::WidthOf(i), Histogram::LowestOf(i + 1)) << i;
    ASSERT_EQ(Histogram::IndexOf(Histogram::LowestOf(i)), i);
    ASSERT_EQ(Histogram::IndexOf(Histogram::LowestOf(i) + Histogram::WidthOf(i) - 1), i);
  }
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 256; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 127u);
  EXPECT_EQ(h.Percentile(1.0), 255u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(Histogram, PercentilesOfAHeavyTailedSampleStayWithinTheStatedErrorBound) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> d(10.0, 1.5);  // ns: ~22 us median, long tail
  std::vector<uint64_t> v;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t x = static_cast<uint64_t>(d(rng)) + 1;
    v.push_back(x);
    h.Record(x);
  }
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    const double exact = static_cast<double>(ExactPercentile(v, q));
    const double got = static_cast<double>(h.Percentile(q));
    EXPECT_LE(std::abs(got - exact), exact * Histogram::kMaxRelativeError + 1)
        << "q=" << q << " exact=" << exact << " got=" << got;
  }
  EXPECT_EQ(h.Percentile(1.0), *std::max_element(v.begin(), v.end()));
  EXPECT_EQ(h.count(), v.size());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t i = 1; i < 100000; i += 7) {
    (i % 2 ? a : b).Record(i * 13);
    all.Record(i * 13);
  }
  a.Merge(b);
  for (double q : {0.5, 0.9, 0.99, 1.0}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
  EXPECT_EQ(a.Cdf(), all.Cdf());
  EXPECT_DOUBLE_EQ(a.Cdf().back().second, 1.0);
}

TEST(Histogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_TRUE(h.Cdf().empty());
}

}  // namespace
}  // namespace grpc_bypass::bench
