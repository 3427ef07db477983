// grpc_event_engine::experimental::EventEngine over the lwIP/DPDK datapath, for gRPC 1.51 ...
// 1.76 (the interface differences are switched in grpc_features.h).
//
// A thin object over the process-wide EngineCore: any number of LwipEventEngine objects may
// exist (gRPC's suite makes one per test); they share one stack, one executor and one timer
// thread. Completions run to completion on the thread whose pass over the stack produced them
// (engine_core.h), never inside the Read/Write/Connect call that asked for them.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENGINE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENGINE_H

#include <grpc/event_engine/event_engine.h>

#include <memory>

#include "absl/status/statusor.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/grpc_features.h"

namespace grpc_bypass::engine {

using grpc_event_engine::experimental::EndpointConfig;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::MemoryAllocatorFactory;

class LwipEventEngine : public grpc_event_engine::experimental::EventEngine {
 public:
  // The core must have been started (EngineCore::Start).
  explicit LwipEventEngine(EngineCore* core) : core_(core) {}
  ~LwipEventEngine() override = default;

  absl::StatusOr<std::unique_ptr<Listener>> CreateListener(
      Listener::AcceptCallback on_accept, absl::AnyInvocable<void(absl::Status)> on_shutdown,
      const EndpointConfig& config,
      std::unique_ptr<MemoryAllocatorFactory> memory_allocator_factory) override;
  ConnectionHandle Connect(OnConnectCallback on_connect, const ResolvedAddress& addr,
                           const EndpointConfig& args, MemoryAllocator memory_allocator,
                           Duration timeout) override;
  bool CancelConnect(ConnectionHandle handle) override;
  bool IsWorkerThread() override;
#if GRPC_BYPASS_EE_DNS_STATUSOR
  using DnsResolverResult = absl::StatusOr<std::unique_ptr<DNSResolver>>;
#else
  using DnsResolverResult = std::unique_ptr<DNSResolver>;
#endif
  DnsResolverResult GetDNSResolver(const DNSResolver::ResolverOptions& options) override;
  void Run(Closure* closure) override;
  void Run(absl::AnyInvocable<void()> closure) override;
  TaskHandle RunAfter(Duration when, Closure* closure) override;
  TaskHandle RunAfter(Duration when, absl::AnyInvocable<void()> closure) override;
  bool Cancel(TaskHandle handle) override;

 private:
  EngineCore* core_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENGINE_H
