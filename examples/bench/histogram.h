// A log-linear latency histogram in the manner of HdrHistogram: values below 256 are exact;
// above, each power of two is split into 128 equal buckets, so a recorded value is known to
// within 1/128 of itself (reported at its bucket's midpoint: error <= 1/256 of the value).
// Fixed memory (7424 counters), O(1) Record, no allocation after construction.
// Not thread-safe: one histogram per recording thread, then Merge().
#ifndef GRPC_BYPASS_EXAMPLES_BENCH_HISTOGRAM_H
#define GRPC_BYPASS_EXAMPLES_BENCH_HISTOGRAM_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace grpc_bypass::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                      // 128 sub-buckets per octave
  static constexpr double kMaxRelativeError = 1.0 / 256;  // of a reported percentile

  Histogram();
  void Record(uint64_t value);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // The value at quantile q in [0, 1] (nearest rank; q = 1 gives the exact max).
  uint64_t Percentile(double q) const;
  // (value, fraction of samples <= value) for every non-empty bucket, ascending.
  std::vector<std::pair<uint64_t, double>> Cdf() const;

  static size_t IndexOf(uint64_t value);
  static uint64_t LowestOf(size_t index);   // smallest value in the bucket
  static uint64_t WidthOf(size_t index);    // number of values in the bucket

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, min_ = UINT64_MAX, max_ = 0;
};

}  // namespace grpc_bypass::bench

#endif  // GRPC_BYPASS_EXAMPLES_BENCH_HISTOGRAM_H
