// Which path an address takes: the bypass (lwIP over DPDK) or the kernel. The one place that
// decides it, for connect, bind and the kernel-too wildcard (BYPASS_KERNEL_TOO), for both gRPC
// bridges (iomgr on 1.51, the routing EventEngine on >= 1.60) and the LwipEventEngine itself,
// with one set of counters that mean the same on every gRPC version. Any thread.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_ROUTER_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_ROUTER_H

#include <grpc/event_engine/event_engine.h>

#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "transport/engine/address.h"
#include "transport/lwip/config.h"

namespace grpc_bypass::engine {

struct RoutingCounters {
  uint64_t bypass_connects, kernel_connects;  // connect attempts, by path
  uint64_t bypass_binds, kernel_binds;        // listener binds, by path (kernel-too: both)
  uint64_t bypass_accepts;                    // connections accepted over the bypass
};

class Router {
 public:
  using ResolvedAddress = grpc_event_engine::experimental::EventEngine::ResolvedAddress;
  explicit Router(StackConfig config) : config_(std::move(config)) {}

  // Whether a bypass bind of a wildcard also listens on the kernel (BYPASS_KERNEL_TOO). Set
  // before traffic.
  void SetWildcardAlsoOnKernel(bool on) { kernel_too_.store(on, std::memory_order_relaxed); }

  // OK if the stack can reach `addr` (an address of its subnets, or through its gateway),
  // else why not: the only test of "does this connect go to the bypass?". Not counted.
  absl::Status CanConnect(const ResolvedAddress& addr) const;
  // OK if a bypass listener may bind `addr` (a wildcard or an address of the interface).
  absl::Status CanBind(const ResolvedAddress& addr) const;

  // A connect about to be made, counted on its path: true for the bypass.
  bool RouteConnect(const ResolvedAddress& addr);
  // A bind about to be made: on the bypass, the kernel, or both (a wildcard with
  // kernel-too), counted on each.
  struct BindRoute {
    bool bypass;
    bool kernel;
  };
  BindRoute RouteBind(const ResolvedAddress& addr);
  // The kernel side of a bind that also went to the bypass: the same address, on the port
  // the bypass chose when `addr` asked for port 0.
  static ResolvedAddress KernelTwin(const ResolvedAddress& addr, int bypass_port);

  void CountAccept() { bypass_accepts_.fetch_add(1, std::memory_order_relaxed); }
  RoutingCounters counters() const;

  // The connection handles of each API, and back: the one encoding. keys[1] tags a handle as
  // the LwipEventEngine's or the RoutingEventEngine's; the iomgr bridge's int64 handles set
  // bit 62 for the bypass (gRPC's posix handles are small counters).
  using ConnectionHandle = grpc_event_engine::experimental::EventEngine::ConnectionHandle;
  static ConnectionHandle LwipHandle(int64_t id) { return {{static_cast<intptr_t>(id), kLwipTag}}; }
  static bool IsLwipHandle(ConnectionHandle h) { return h.keys[1] == kLwipTag; }
  static ConnectionHandle RoutedHandle(int64_t id) {
    return {{static_cast<intptr_t>(id), kRoutedTag}};
  }
  static bool IsRoutedHandle(ConnectionHandle h) { return h.keys[1] == kRoutedTag; }
  static int64_t IomgrHandle(int64_t id) { return kIomgrBit | id; }
  static bool IsIomgrBypassHandle(int64_t h) { return (h & kIomgrBit) != 0; }
  static int64_t IomgrHandleId(int64_t h) { return h & ~kIomgrBit; }

 private:
  static constexpr intptr_t kLwipTag = 0x6279;    // "by"
  static constexpr intptr_t kRoutedTag = 0x7274;  // "rt"
  static constexpr int64_t kIomgrBit = int64_t{1} << 62;
  const StackConfig config_;
  std::atomic<bool> kernel_too_{false};
  std::atomic<uint64_t> bypass_connects_{0}, kernel_connects_{0}, bypass_binds_{0},
      kernel_binds_{0}, bypass_accepts_{0};
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_ROUTER_H
