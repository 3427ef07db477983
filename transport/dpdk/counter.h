// A statistics counter with one writer at a time (the stack's token holder; the token's
// hand-over orders the writes) and any number of readers.
// Writes are a relaxed load + store (no locked instruction on the hot path); readers on other
// threads see a recent value.
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_COUNTER_H
#define GRPC_BYPASS_TRANSPORT_DPDK_COUNTER_H

#include <atomic>
#include <cstdint>

namespace grpc_bypass {

class Counter {
 public:
  // The one writer only.
  void Add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  // Any thread.
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_COUNTER_H
