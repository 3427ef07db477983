// An EventEngine that sends the bypass interface's addresses to the lwIP engine and every
// other address to a fallback engine (gRPC's default, kernel sockets), so that one process
// talks to bypass and kernel peers at once. It is how the bypass plugs into a gRPC whose TCP
// goes through the EventEngine (>= 1.60, see grpc_version.h); on 1.51 the iomgr bridge does
// the same routing and this class is built and tested but not installed.
//
// Routing (the core's engine::Router decides, for this and the iomgr bridge alike): Connect to
// an address the stack can reach -> bypass; others -> fallback. A listener bound to the
// interface's address or a wildcard -> bypass (a wildcard also on the fallback with
// BYPASS_KERNEL_TOO); other addresses -> fallback.
// Run/RunAfter/Cancel use the bypass engine's executor and timers; DNS uses the fallback.
// Thread-safe: any thread may call any method.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_ROUTING_ENGINE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_ROUTING_ENGINE_H

#include <grpc/event_engine/event_engine.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "transport/engine/engine_core.h"
#include "transport/grpc/grpc_version.h"

namespace grpc_bypass {

class RoutingEventEngine : public grpc_event_engine::experimental::EventEngine {
 public:
  // `core` must have been started; `fallback` may not be null.
  // Routing: core->router() (and its counters).
  RoutingEventEngine(engine::EngineCore* core, std::shared_ptr<EventEngine> fallback);
  ~RoutingEventEngine() override;

  absl::StatusOr<std::unique_ptr<Listener>> CreateListener(
      Listener::AcceptCallback on_accept, absl::AnyInvocable<void(absl::Status)> on_shutdown,
      const grpc_event_engine::experimental::EndpointConfig& config,
      std::unique_ptr<grpc_event_engine::experimental::MemoryAllocatorFactory> factory) override;
  ConnectionHandle Connect(OnConnectCallback on_connect, const ResolvedAddress& addr,
                           const grpc_event_engine::experimental::EndpointConfig& args,
                           grpc_event_engine::experimental::MemoryAllocator memory_allocator,
                           Duration timeout) override;
  bool CancelConnect(ConnectionHandle handle) override;
  bool IsWorkerThread() override;
#if GRPC_BYPASS_EE_DNS_STATUSOR
  absl::StatusOr<std::unique_ptr<DNSResolver>> GetDNSResolver(
      const DNSResolver::ResolverOptions& options) override;
#else
  std::unique_ptr<DNSResolver> GetDNSResolver(const DNSResolver::ResolverOptions& options) override;
#endif
  void Run(Closure* closure) override;
  void Run(absl::AnyInvocable<void()> closure) override;
  TaskHandle RunAfter(Duration when, Closure* closure) override;
  TaskHandle RunAfter(Duration when, absl::AnyInvocable<void()> closure) override;
  bool Cancel(TaskHandle handle) override;


 private:
  class RoutingListener;
  struct Pending {
    bool bypass;
    bool has_real;          // `real` is set (Connect has returned)
    ConnectionHandle real;  // the handle of the engine that makes the connection
  };

  engine::EngineCore* const core_;
  const std::shared_ptr<EventEngine> bypass_;
  const std::shared_ptr<EventEngine> fallback_;
  absl::Mutex mu_;
  // Connections in progress under our own handles (Router::RoutedHandle), so that CancelConnect
  // reaches the engine that makes them (two engines' handles may collide).
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<int64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
};

#if GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
// gRPC >= 1.60: makes gRPC's EventEngine a RoutingEventEngine over `core` and gRPC's own
// default engine: SetDefaultEventEngine from 1.71, the engine factory before (each engine the
// factory makes routes; gRPC's default engine behind it). On 1.60-1.67 it also turns on the
// event_engine_client experiment (GRPC_EXPERIMENTS), without which clients stay on iomgr.
// Call before grpc_init().
void InstallRoutingEngine(engine::EngineCore* core);
#endif

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_ROUTING_ENGINE_H
