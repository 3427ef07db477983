// An EventEngine::Endpoint over one lwIP TCP connection.
//
// Threading: Read/Write/the destructor may be called on any thread; they run under the
// stack token (at once when it is free, else its holder runs them), and only the token
// holder touches the pcb and the state below (ABSL_GUARDED_BY(stack_token), checked). Completions run to completion (EngineCore::Deliver), each exactly
// once: with data, with an error, or with "Endpoint shutdown" if the endpoint is destroyed
// first. Received data is handed over without a copy (each pbuf becomes a slice whose bytes
// are reserved from the endpoint's MemoryAllocator until the slice is freed); written data is
// copied once, into lwIP's send buffer, and the write completes when lwIP has taken it all.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENDPOINT_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENDPOINT_H

#include <grpc/event_engine/event_engine.h>
#include <grpc/event_engine/memory_allocator.h>

#include <deque>
#include <memory>

#include "absl/status/status.h"
#include "lwip/tcp.h"
#include "transport/engine/address.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/grpc_features.h"

namespace grpc_bypass::engine {

using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::SliceBuffer;

class EndpointImpl : public std::enable_shared_from_this<EndpointImpl> {
 public:
  using Callback = absl::AnyInvocable<void(absl::Status)>;

  using After = Stack::After;
  // Token holder: takes over a connected pcb (its callbacks now point here).
  static std::shared_ptr<EndpointImpl> Adopt(EngineCore* core, tcp_pcb* pcb,
                                             MemoryAllocator allocator) BYPASS_REQUIRES_TOKEN;
  // (Destruction needs no lwIP: Detach() released every pbuf under the token.)

  // Any thread. Never wait. `after`: where completions of a turn taken here go (kOffload
  // inside a public EventEngine call).
  void Read(Callback on_read, SliceBuffer* buffer, After after);
  void Write(Callback on_writable, SliceBuffer* data, After after);
  // For gRPC >= 1.54's Read/Write, which may finish before they return. Only when the stack
  // token is free, on this thread, in one turn: kDone if the operation finished (data already
  // received moved into `buffer`; all of `data` taken by lwIP) and the callback was left
  // untouched and must not run; kPending if it was started and took the callback (it runs
  // later, also with an error); kNotTried if the token was busy (callback untouched: use
  // Read/Write).
  enum class Now { kDone, kPending, kNotTried };
  Now ReadNow(Callback& on_read, SliceBuffer* buffer);
  Now WriteNow(Callback& on_writable, SliceBuffer* data);
  // Idempotent; completes pending operations with an error (on the executor). WAITS until
  // that has happened: at once when the token is free, else for the holder's current pass
  // (Stack::RunAndWait). Then nothing here refers to the caller's buffers any more, which the
  // EventEngine lets the caller free right after destroying the endpoint (gRPC 1.76's
  // endpoint test does).
  void ShutdownAndWait();
  const ResolvedAddress& peer() const { return peer_; }
  const ResolvedAddress& local() const { return local_; }

 private:
  EndpointImpl(EngineCore* core, MemoryAllocator allocator);
  // Token holder only below.
  void StartRead(Callback cb, SliceBuffer* buffer) BYPASS_REQUIRES_TOKEN;
  void StartWrite(Callback cb, SliceBuffer* data) BYPASS_REQUIRES_TOKEN;
  void DeliverRead() BYPASS_REQUIRES_TOKEN;
  // Moves rx_ into `buffer`, reopens the window.
  size_t TakeReceived(SliceBuffer* buffer) BYPASS_REQUIRES_TOKEN;
  void PumpWrite() BYPASS_REQUIRES_TOKEN;
  // Hands write_buf_ to lwIP as far as it takes it; true when all is taken.
  bool WriteSome() BYPASS_REQUIRES_TOKEN;
  // tcp_output now, or at the end of this thread's batch (Stack::Cork): the answers one
  // batch writes to this connection then leave together.
  void Output() BYPASS_REQUIRES_TOKEN;
  // Completes pending operations, detaches from lwIP.
  void Fail(absl::Status status) BYPASS_REQUIRES_TOKEN;
  void Detach(bool close) BYPASS_REQUIRES_TOKEN;
  void Complete(Callback cb, absl::Status st) BYPASS_REQUIRES_TOKEN;

  // lwIP's callbacks (inside a pass: the token is held).
  static err_t OnRecv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err) BYPASS_REQUIRES_TOKEN;
  static err_t OnSent(void* arg, tcp_pcb* pcb, u16_t len) BYPASS_REQUIRES_TOKEN;
  static void OnErr(void* arg, err_t err) BYPASS_REQUIRES_TOKEN;

  EngineCore* const core_;
  const std::shared_ptr<MemoryAllocator> allocator_;
  ResolvedAddress peer_, local_;  // set by Adopt, then read-only

  tcp_pcb* pcb_ ABSL_GUARDED_BY(stack_token) = nullptr;
  bool corked_ ABSL_GUARDED_BY(stack_token) = false;  // its output waits in Stack::Cork
  // Held while lwIP points at us.
  std::shared_ptr<EndpointImpl> self_ ABSL_GUARDED_BY(stack_token);
  // Detach() aborted the pcb (lwIP callbacks: ERR_ABRT).
  bool aborted_ ABSL_GUARDED_BY(stack_token) = false;
  // Received, not yet read: single pbufs.
  std::deque<pbuf*> rx_ ABSL_GUARDED_BY(stack_token);
  bool eof_ ABSL_GUARDED_BY(stack_token) = false;
  absl::Status error_ ABSL_GUARDED_BY(stack_token);  // sticky: reset, abort, shutdown
  Callback on_read_ ABSL_GUARDED_BY(stack_token);
  SliceBuffer* read_buf_ ABSL_GUARDED_BY(stack_token) = nullptr;
  Callback on_write_ ABSL_GUARDED_BY(stack_token);
  SliceBuffer* write_buf_ ABSL_GUARDED_BY(stack_token) = nullptr;
  size_t write_slice_ ABSL_GUARDED_BY(stack_token) = 0;
  size_t write_off_ ABSL_GUARDED_BY(stack_token) = 0;
};

// The public Endpoint, for each gRPC's interface (grpc_features.h). Callbacks never run inside
// Read/Write (the EventEngine contract): from gRPC 1.54, a read or write that can finish at
// once does so and returns true (run to completion: no hand-off at all); otherwise, and on
// older gRPC, the callback runs later, on the thread whose pass completes the operation.
class LwipEndpoint : public EventEngine::Endpoint {
 public:
#if GRPC_BYPASS_EE_ARGS_BY_VALUE
  using ReadArgsParam = ReadArgs;
  using WriteArgsParam = WriteArgs;
#else
  using ReadArgsParam = const ReadArgs*;
  using WriteArgsParam = const WriteArgs*;
#endif
#if GRPC_BYPASS_EE_IO_RETURNS_BOOL
  using IoResult = bool;
#else
  using IoResult = void;
#endif

  explicit LwipEndpoint(std::shared_ptr<EndpointImpl> impl) : impl_(std::move(impl)) {}
  // May wait for the token holder's current pass (EndpointImpl::ShutdownAndWait).
  ~LwipEndpoint() override { impl_->ShutdownAndWait(); }
  IoResult Read(absl::AnyInvocable<void(absl::Status)> on_read, SliceBuffer* buffer,
                ReadArgsParam args) override;
  IoResult Write(absl::AnyInvocable<void(absl::Status)> on_writable, SliceBuffer* data,
                 WriteArgsParam args) override;
#if GRPC_BYPASS_EE_TELEMETRY
  // No per-write telemetry (timestamps, TCP metrics) yet; gRPC's CFStream endpoint does the
  // same, and chttp2 does not ask.
  std::shared_ptr<TelemetryInfo> GetTelemetryInfo() const override { return nullptr; }
#endif
  // As Read/Write, but the callback may run before these return, on the caller's thread
  // (when the data or the send-buffer room is there at once). For callers whose callback
  // only schedules work, such as gRPC's iomgr bridge (its closures run from an ExecCtx).
  void ReadMayCompleteInline(absl::AnyInvocable<void(absl::Status)> on_read, SliceBuffer* buffer) {
    impl_->Read(std::move(on_read), buffer, Stack::After::kHere);
  }
  void WriteMayCompleteInline(absl::AnyInvocable<void(absl::Status)> on_writable, SliceBuffer* data) {
    impl_->Write(std::move(on_writable), data, Stack::After::kHere);
  }
  const EventEngine::ResolvedAddress& GetPeerAddress() const override { return impl_->peer(); }
  const EventEngine::ResolvedAddress& GetLocalAddress() const override { return impl_->local(); }

 private:
  std::shared_ptr<EndpointImpl> impl_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENDPOINT_H
