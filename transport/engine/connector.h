// Outgoing connections over lwIP: EventEngine::Connect and CancelConnect for every
// LwipEventEngine of the process. Each connect in flight is a PendingConnect owned by the
// Connector's table (as gRPC's posix engine keeps them in its ConnectionShards) until it
// ends: connected, failed, timed out or cancelled, exactly one of them. The table and each
// pcb are the token holder's (ABSL_GUARDED_BY(stack_token)); lwIP's callbacks carry the
// connect's id-keyed entry as their raw `arg` (a C callback has no other user data).
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_CONNECTOR_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_CONNECTOR_H

#include <grpc/event_engine/event_engine.h>
#include <grpc/event_engine/memory_allocator.h>

#include <atomic>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "lwip/tcp.h"
#include "transport/lwip/token.h"

namespace grpc_bypass::engine {

class EngineCore;

class Connector {
 public:
  using EE = grpc_event_engine::experimental::EventEngine;
  explicit Connector(EngineCore* core);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Any thread; never waits. Starts a connect and returns its id (never 0). `on_connect`
  // runs exactly once (EngineCore::Deliver), never inside this call, unless the connect is
  // cancelled first. Addresses not on the bypass fail at once (on the executor).
  int64_t Connect(EE::OnConnectCallback on_connect, const EE::ResolvedAddress& addr,
                  grpc_event_engine::experimental::MemoryAllocator allocator,
                  absl::Duration timeout);
  // Any thread; WAITS for its turn on the stack (Stack::RunAndWait). True if the connect was
  // still in flight: it is aborted and its on_connect never runs.
  bool Cancel(int64_t id);

 private:
  struct Pending;
  // Token holder: ends a connect; on_connect runs with `result`.
  void Finish(int64_t id, absl::StatusOr<std::unique_ptr<EE::Endpoint>> result)
      BYPASS_REQUIRES_TOKEN;
  void Start(int64_t id) BYPASS_REQUIRES_TOKEN;
  void TimedOut(int64_t id) BYPASS_REQUIRES_TOKEN;
  // lwIP's callbacks (inside a pass: the token is held); `arg` is the Pending.
  static err_t OnConnected(void* arg, tcp_pcb* pcb, err_t err) BYPASS_REQUIRES_TOKEN;
  static void OnError(void* arg, err_t err) BYPASS_REQUIRES_TOKEN;

  EngineCore* const core_;
  std::atomic<int64_t> next_id_{1};
  absl::flat_hash_map<int64_t, std::unique_ptr<Pending>> pending_ ABSL_GUARDED_BY(stack_token);
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_CONNECTOR_H
