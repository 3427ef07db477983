// EventEngine::Listener on lwIP: Bind() creates and binds pcbs at once (so port 0 reports the
// chosen port), Start() listens. Accepted connections become LwipEndpoints, handed to
// on_accept on the thread that polled the SYN's handshake to completion (EngineCore::Deliver).
// Destroying the listener closes its pcbs and then runs on_shutdown on the executor, after
// every accept already handed out has returned. Connections already accepted are not
// affected.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_LISTENER_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_LISTENER_H

#include <grpc/event_engine/event_engine.h>
#include <grpc/event_engine/memory_allocator.h>

#include <memory>

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

#include "lwip/tcp.h"
#include "transport/engine/engine_core.h"

namespace grpc_bypass::engine {

using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocatorFactory;

class ListenerImpl {
 public:
  ListenerImpl(EngineCore* core, EventEngine::Listener::AcceptCallback on_accept,
               absl::AnyInvocable<void(absl::Status)> on_shutdown,
               std::unique_ptr<MemoryAllocatorFactory> factory);
  // Any thread. Each WAITS for its turn on the stack (Stack::RunAndWait): set-up calls.
  absl::StatusOr<int> Bind(const EventEngine::ResolvedAddress& addr);
  absl::Status Start();
  // Any thread, once. WAITS for its turn on the stack, and for on_shutdown (on the executor)
  // unless called on an executor thread or while accepts handed out are still running.
  void ShutdownAndWait();

 private:
  // Shared with accepts handed out but not yet run: on_shutdown runs after the last of them.
  struct AcceptState {
    explicit AcceptState(EventEngine::Listener::AcceptCallback cb) : on_accept(std::move(cb)) {}
    EventEngine::Listener::AcceptCallback on_accept;
    absl::Mutex mu;
    int in_flight ABSL_GUARDED_BY(mu) = 0;
    bool shut ABSL_GUARDED_BY(mu) = false;
    absl::AnyInvocable<void(absl::Status)> on_shutdown ABSL_GUARDED_BY(mu);
  };
  // lwIP's accept callback (inside a pass: the token is held).
  static err_t OnAccept(void* arg, tcp_pcb* pcb, err_t err) BYPASS_REQUIRES_TOKEN;
  EngineCore* const core_;
  const std::shared_ptr<AcceptState> state_;
  const std::unique_ptr<MemoryAllocatorFactory> factory_;
  std::vector<tcp_pcb*> pcbs_ ABSL_GUARDED_BY(stack_token);
  bool started_ ABSL_GUARDED_BY(stack_token) = false;
  uint64_t accepted_ ABSL_GUARDED_BY(stack_token) = 0;
};

class LwipListener : public EventEngine::Listener {
 public:
  explicit LwipListener(std::unique_ptr<ListenerImpl> impl) : impl_(std::move(impl)) {}
  ~LwipListener() override { impl_->ShutdownAndWait(); }  // may wait (ListenerImpl)
  absl::StatusOr<int> Bind(const EventEngine::ResolvedAddress& addr) override {
    return impl_->Bind(addr);
  }
  absl::Status Start() override { return impl_->Start(); }

 private:
  std::unique_ptr<ListenerImpl> impl_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_LISTENER_H
