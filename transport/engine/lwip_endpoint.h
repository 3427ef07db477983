// An EventEngine::Endpoint over one lwIP TCP connection.
//
// Threading: Read/Write/the destructor may be called on any thread; they run under the
// stack token (at once when it is free, else its holder runs them), and only the token's
// holder touches the pcb. Completions run to completion (EngineCore::Deliver), each exactly
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

  // Poll thread: takes over a connected pcb (its callbacks now point here).
  static std::shared_ptr<EndpointImpl> Adopt(EngineCore* core, tcp_pcb* pcb,
                                             MemoryAllocator allocator);
  // (Destruction needs no lwIP: Detach() released every pbuf on the poll thread.)

  // Any thread.
  void Read(Callback on_read, SliceBuffer* buffer);
  void Write(Callback on_writable, SliceBuffer* data);
  // For gRPC >= 1.54's Read/Write, which may finish before they return. Only when the stack
  // token is free, on this thread, in one turn: kDone if the operation finished (data already
  // received moved into `buffer`; all of `data` taken by lwIP) and the callback was left
  // untouched and must not run; kPending if it was started and took the callback (it runs
  // later, also with an error); kNotTried if the token was busy (callback untouched: use
  // Read/Write).
  enum class Now { kDone, kPending, kNotTried };
  Now ReadNow(Callback& on_read, SliceBuffer* buffer);
  Now WriteNow(Callback& on_writable, SliceBuffer* data);
  // Idempotent; completes pending operations with an error. With `wait`, returns only once
  // that has happened (the holder of the stack token has run it): then nothing here refers to
  // the caller's buffers any more, which the EventEngine lets the caller free right after
  // destroying the endpoint (gRPC 1.76's endpoint test does).
  void Shutdown(bool wait = false);
  const ResolvedAddress& peer() const { return peer_; }
  const ResolvedAddress& local() const { return local_; }

 private:
  EndpointImpl(EngineCore* core, MemoryAllocator allocator);
  // Poll thread only below.
  void StartRead(Callback cb, SliceBuffer* buffer);
  void StartWrite(Callback cb, SliceBuffer* data);
  void DeliverRead();
  size_t TakeReceived(SliceBuffer* buffer);  // moves rx_ into `buffer`, reopens the window
  void PumpWrite();
  bool WriteSome();  // hands write_buf_ to lwIP as far as it takes it; true when all is taken
  void Fail(absl::Status status);  // completes pending operations, detaches from lwIP
  void Detach(bool close);
  void Complete(Callback cb, absl::Status st);

  static err_t OnRecv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err);
  static err_t OnSent(void* arg, tcp_pcb* pcb, u16_t len);
  static void OnErr(void* arg, err_t err);

  EngineCore* core_;
  std::shared_ptr<MemoryAllocator> allocator_;
  ResolvedAddress peer_, local_;

  tcp_pcb* pcb_ = nullptr;
  std::shared_ptr<EndpointImpl> self_;  // held while lwIP points at us
  bool aborted_ = false;                // Detach() aborted the pcb (lwIP callbacks: ERR_ABRT)
  std::deque<pbuf*> rx_;                // received, not yet read: single pbufs
  bool eof_ = false;
  absl::Status error_;                  // sticky: reset, abort, shutdown
  Callback on_read_;
  SliceBuffer* read_buf_ = nullptr;
  Callback on_write_;
  SliceBuffer* write_buf_ = nullptr;
  size_t write_slice_ = 0, write_off_ = 0;
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
  ~LwipEndpoint() override {
    NoInlineCompletions not_in_caller;  // the error completions run on the executor
    impl_->Shutdown(/*wait=*/true);
  }
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
    impl_->Read(std::move(on_read), buffer);
  }
  void WriteMayCompleteInline(absl::AnyInvocable<void(absl::Status)> on_writable, SliceBuffer* data) {
    impl_->Write(std::move(on_writable), data);
  }
  const EventEngine::ResolvedAddress& GetPeerAddress() const override { return impl_->peer(); }
  const EventEngine::ResolvedAddress& GetLocalAddress() const override { return impl_->local(); }

 private:
  std::shared_ptr<EndpointImpl> impl_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_LWIP_ENDPOINT_H
