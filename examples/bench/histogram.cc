#include "examples/bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace grpc_bypass::bench {
namespace {
constexpr uint64_t kSub = uint64_t{1} << Histogram::kSubBits;  // 128
constexpr size_t kBuckets = 2 * kSub + (64 - Histogram::kSubBits - 1) * kSub;
}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::IndexOf(uint64_t v) {
  if (v < 2 * kSub) return static_cast<size_t>(v);
  const int k = 63 - __builtin_clzll(v);  // 2^k <= v < 2^(k+1), k >= 8
  const int shift = k - kSubBits;         // >= 1
  const uint64_t sub = v >> shift;        // in [128, 255]
  return static_cast<size_t>(2 * kSub + (shift - 1) * kSub + (sub - kSub));
}

uint64_t Histogram::LowestOf(size_t i) {
  if (i < 2 * kSub) return i;
  const size_t j = i - 2 * kSub;
  const int shift = static_cast<int>(j / kSub) + 1;
  return (kSub + j % kSub) << shift;
}

uint64_t Histogram::WidthOf(size_t i) {
  if (i < 2 * kSub) return 1;
  return uint64_t{1} << ((i - 2 * kSub) / kSub + 1);
}

void Histogram::Record(uint64_t v) {
  counts_[IndexOf(v)]++;
  count_++;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

void Histogram::Merge(const Histogram& o) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1) return max_;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t mid = LowestOf(i) + WidthOf(i) / 2;
      return std::clamp(mid, min_, max_);  // never outside what was recorded
    }
  }
  return max_;
}

std::vector<std::pair<uint64_t, double>> Histogram::Cdf() const {
  std::vector<std::pair<uint64_t, double>> out;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    out.emplace_back(std::clamp(LowestOf(i) + WidthOf(i) / 2, min_, max_),
                     static_cast<double>(seen) / count_);
  }
  return out;
}

}  // namespace grpc_bypass::bench
