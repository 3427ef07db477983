#include "transport/engine/lwip_endpoint.h"

#include <grpc/slice.h>

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "transport/lwip/err.h"

namespace grpc_bypass::engine {
namespace {

using grpc_event_engine::experimental::MemoryRequest;
using grpc_event_engine::experimental::Slice;

constexpr size_t kReadSliceMax = 64 * 1024;  // see TakeReceived
constexpr size_t kEarlyOutput = 64 * 1024;   // see WriteSome

// Owner of one received pbuf while gRPC holds it as a slice. `published` pairs the thread that
// made it (the stack's token holder) with the one that frees it: gRPC hands slices between
// its threads inside libgrpc, where ThreadSanitizer cannot see the order.
struct RxSliceOwner {
  pbuf* p = nullptr;
  std::shared_ptr<MemoryAllocator> allocator;
  size_t reserved = 0;
  EngineCore* core = nullptr;
  std::atomic<bool> published{false};
};

// gRPC's slice API takes a C destructor with a raw pointer: the owner is released to it in
// TakeReceived and taken back here.
void DestroyRxSlice(void* arg) {
  std::unique_ptr<RxSliceOwner> o(static_cast<RxSliceOwner*>(arg));
  (void)o->published.load(std::memory_order_acquire);
  if (o->p->flags & PBUF_FLAG_IS_CUSTOM) {
    // Our RX pbufs: freeing one frees its mbuf segment, which any thread may do.
    pbuf_free(o->p);
  } else {
    // An lwIP-owned pbuf: only the token holder may free it. If the stack has stopped
    // (process exit) nothing uses lwIP any more and the pbuf is simply not freed.
    pbuf* p = o->p;
    (void)o->core->stack().RunHereOrQueue([p]() BYPASS_REQUIRES_TOKEN { pbuf_free(p); });
  }
  o->allocator->Release(o->reserved);
}

void Recved(tcp_pcb* pcb, size_t n) {
  while (n > 0) {
    const u16_t k = static_cast<u16_t>(std::min<size_t>(n, 0xffff));
    tcp_recved(pcb, k);
    n -= k;
  }
}

}  // namespace

EndpointImpl::EndpointImpl(EngineCore* core, MemoryAllocator allocator)
    : core_(core), allocator_(std::make_shared<MemoryAllocator>(std::move(allocator))) {}

std::shared_ptr<EndpointImpl> EndpointImpl::Adopt(EngineCore* core, tcp_pcb* pcb,
                                                  MemoryAllocator allocator) {
  std::shared_ptr<EndpointImpl> ep(new EndpointImpl(core, std::move(allocator)));
  ep->pcb_ = pcb;
  ep->self_ = ep;
  ep->peer_ = FromLwip(pcb->remote_ip, pcb->remote_port);
  ep->local_ = FromLwip(pcb->local_ip, pcb->local_port);
  tcp_arg(pcb, ep.get());
  tcp_recv(pcb, &EndpointImpl::OnRecv);
  tcp_sent(pcb, &EndpointImpl::OnSent);
  tcp_err(pcb, &EndpointImpl::OnErr);
  tcp_nagle_disable(pcb);
  core->counters().endpoints_opened.Inc();
  return ep;
}

void EndpointImpl::Complete(Callback cb, absl::Status st) {
  core_->Deliver([cb = std::move(cb), st = std::move(st)]() mutable { cb(std::move(st)); });
}

// ---- any thread ---------------------------------------------------------------------
// Each closure holds a shared_ptr, so the object outlives its pending commands. The stack
// runs it at once when the token is free, else the token holder does.

namespace {
// Once the stack has stopped, a read or write fails at once, on the executor.
void FailStopped(EngineCore* core, absl::AnyInvocable<void(absl::Status)> cb) {
  core->executor().Run([cb = std::move(cb)]() mutable {
    cb(ConnectionClosed("Endpoint shutdown: the stack has stopped"));
  });
}
}  // namespace

void EndpointImpl::Read(Callback on_read, SliceBuffer* buffer, After after) {
  // (The closure carries the callback as it is: a rejected closure is destroyed, so a copy
  // stays here to fail the read with; shared, because the closure may outlive this call.)
  auto cb = std::make_shared<Callback>(std::move(on_read));
  if (!core_->stack().RunHereOrQueue(
          [self = shared_from_this(), cb, buffer]() BYPASS_REQUIRES_TOKEN {
            self->StartRead(std::move(*cb), buffer);
          },
          after)) {
    FailStopped(core_, std::move(*cb));
  }
}

void EndpointImpl::Write(Callback on_writable, SliceBuffer* data, After after) {
  auto cb = std::make_shared<Callback>(std::move(on_writable));
  if (!core_->stack().RunHereOrQueue(
          [self = shared_from_this(), cb, data]() BYPASS_REQUIRES_TOKEN {
            self->StartWrite(std::move(*cb), data);
          },
          after)) {
    FailStopped(core_, std::move(*cb));
  }
}

void EndpointImpl::ShutdownAndWait() {
  auto fail = [this]() BYPASS_REQUIRES_TOKEN {
    if (error_.ok()) error_ = ConnectionClosed("Shutting down endpoint");
    Fail(error_);
  };
  auto self = shared_from_this();  // Fail() may drop self_
  if (core_->stack().RunAndWait(fail, After::kOffload)) return;
  // The stack has stopped (process exit): lwIP never runs again, so the pending operations
  // are completed from here, each exactly once (the pcb and pbufs are left to lwIP).
  core_->stack().RunAfterStop(
      [&]() BYPASS_REQUIRES_TOKEN {
        pcb_ = nullptr;
        rx_.clear();
        fail();
      },
      After::kOffload);
}

// ---- token holder ----------------------------------------------------------------------

void EndpointImpl::StartRead(Callback cb, SliceBuffer* buffer) {
  if (on_read_) {
    Complete(std::move(cb), absl::FailedPreconditionError("a read is already pending"));
    return;
  }
  on_read_ = std::move(cb);
  read_buf_ = buffer;
  DeliverRead();
}

EndpointImpl::Now EndpointImpl::ReadNow(Callback& on_read, SliceBuffer* buffer) {
  Now result = Now::kNotTried;
  core_->stack().RunHereIfFree([&]() BYPASS_REQUIRES_TOKEN {
    if (!on_read_ && !rx_.empty()) {
      TakeReceived(buffer);
      result = Now::kDone;
    } else {
      StartRead(std::move(on_read), buffer);  // pending, or completed later with an error
      result = Now::kPending;
    }
  }, After::kOffload);
  return result;
}

EndpointImpl::Now EndpointImpl::WriteNow(Callback& on_writable, SliceBuffer* data) {
  Now result = Now::kNotTried;
  core_->stack().RunHereIfFree([&]() BYPASS_REQUIRES_TOKEN {
    result = Now::kPending;
    if (on_write_ || !error_.ok() || pcb_ == nullptr) {
      StartWrite(std::move(on_writable), data);  // completes it later with the error
      return;
    }
    write_buf_ = data;
    write_slice_ = 0;
    write_off_ = 0;
    if (WriteSome()) {
      write_buf_ = nullptr;
      result = Now::kDone;
    } else if (!error_.ok()) {  // tcp_write failed (Fail() has run): report it later
      write_buf_ = nullptr;
      Complete(std::move(on_writable), error_);
    } else {
      on_write_ = std::move(on_writable);  // the rest goes out from OnSent
    }
  }, After::kOffload);
  return result;
}

size_t EndpointImpl::TakeReceived(SliceBuffer* buffer) {
  size_t n = 0;
  if (rx_.size() == 1) {
    // One segment (small messages): hand gRPC the mbuf's bytes without a copy.
    pbuf* p = rx_.front();
    rx_.pop_front();
    n = p->len;
    auto owner = std::make_unique<RxSliceOwner>();
    owner->p = p;
    owner->allocator = allocator_;
    owner->core = core_;
    owner->reserved = allocator_->Reserve(MemoryRequest(n));
    owner->published.store(true, std::memory_order_release);
    buffer->Append(Slice(
        grpc_slice_new_with_user_data(p->payload, n, DestroyRxSlice, owner.release())));
  } else {
    // Several segments (bulk data): copies into slices of up to kReadSliceMax bytes cost
    // less than a slice, an allocation and a quota reservation per segment, and gRPC parses
    // a few slices instead of hundreds. The mbufs go back to the pool at once. The cap keeps
    // each slice under malloc's mmap threshold (128 KiB): a larger one is a fresh mapping,
    // page-faulted on the copy and unmapped on free, for every read (gRPC's own TCP reader
    // uses 64 KiB slices for the same reason).
    for (pbuf* p : rx_) n += p->len;
    size_t left = n;
    grpc_slice slice = grpc_empty_slice();
    uint8_t* dst = nullptr;
    size_t room = 0;
    for (pbuf* p : rx_) {
      size_t off = 0;
      while (off < p->len) {
        if (room == 0) {
          if (dst != nullptr) buffer->Append(Slice(slice));
          room = std::min(left, kReadSliceMax);
          slice = allocator_->MakeSlice(MemoryRequest(room));
          dst = GRPC_SLICE_START_PTR(slice);
        }
        const size_t c = std::min<size_t>(room, p->len - off);
        std::memcpy(dst, static_cast<const uint8_t*>(p->payload) + off, c);
        dst += c;
        off += c;
        room -= c;
        left -= c;
      }
      pbuf_free(p);
    }
    rx_.clear();
    if (dst != nullptr) buffer->Append(Slice(slice));
  }
  if (pcb_ != nullptr) Recved(pcb_, n);  // reopen the window for what the reader took
  core_->counters().reads.Inc();
  core_->counters().bytes_read.Add(n);
  return n;
}

void EndpointImpl::DeliverRead() {
  if (!on_read_) return;
  if (!rx_.empty()) {
    TakeReceived(read_buf_);
    read_buf_ = nullptr;
    Complete(std::move(on_read_), absl::OkStatus());
    on_read_ = nullptr;
    return;
  }
  if (!error_.ok() || eof_) {
    read_buf_ = nullptr;
    Complete(std::move(on_read_), error_.ok() ? ConnectionClosed("Socket closed") : error_);
    on_read_ = nullptr;
  }
}

void EndpointImpl::StartWrite(Callback cb, SliceBuffer* data) {
  if (on_write_) {
    Complete(std::move(cb), absl::FailedPreconditionError("a write is already pending"));
    return;
  }
  if (!error_.ok() || pcb_ == nullptr) {
    Complete(std::move(cb), error_.ok() ? ConnectionClosed("EOF") : error_);
    return;
  }
  on_write_ = std::move(cb);
  write_buf_ = data;
  write_slice_ = 0;
  write_off_ = 0;
  PumpWrite();
}

void EndpointImpl::PumpWrite() {
  if (!on_write_ || pcb_ == nullptr) return;
  if (!WriteSome()) return;  // the rest from OnSent (or Fail() completed it)
  write_buf_ = nullptr;
  Complete(std::move(on_write_), absl::OkStatus());
  on_write_ = nullptr;
}

bool EndpointImpl::WriteSome() {
  grpc_slice_buffer* sb = write_buf_->c_slice_buffer();
  bool wrote = false;
  size_t since_output = 0;
  while (write_slice_ < sb->count) {
    const grpc_slice& s = sb->slices[write_slice_];
    const size_t left = GRPC_SLICE_LENGTH(s) - write_off_;
    if (left == 0) {
      ++write_slice_;
      write_off_ = 0;
      continue;
    }
    const u32_t room = tcp_sndbuf(pcb_);
    if (room == 0 || tcp_sndqueuelen(pcb_) >= TCP_SND_QUEUELEN - 4) {
      core_->counters().write_stalls.Inc();
      break;
    }
    // Bulk: every kEarlyOutput bytes, at a segment boundary, what is queued goes out, so that
    // the peer receives (and copies) the first frames while this thread copies the rest.
    const size_t mss = std::max<size_t>(pcb_->mss, 1);
    const size_t unsent = pcb_->snd_lbb - pcb_->snd_nxt;  // bytes queued, not yet sent
    if (since_output >= kEarlyOutput && unsent % mss == 0) {
      tcp_output(pcb_);
      core_->stack().FlushTx();
      core_->counters().early_flushes.Inc();
      since_output = 0;
    }
    size_t n = std::min<size_t>({left, room, 0xffff});
    if (since_output + n > kEarlyOutput) {  // stop at the first segment boundary past the mark
      const size_t to_mark = kEarlyOutput - std::min(since_output, kEarlyOutput);
      n = std::min(n, to_mark + (mss - (unsent + to_mark) % mss) % mss);
    }
    const bool more = n < left || write_slice_ + 1 < sb->count;
    err_t e = tcp_write(pcb_, GRPC_SLICE_START_PTR(s) + write_off_, static_cast<u16_t>(n),
                        TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0));
    if (e == ERR_MEM) {  // back-pressure: continue from OnSent
      core_->counters().write_stalls.Inc();
      break;
    }
    if (e != ERR_OK) {
      Fail(ConnectionError(e));
      return false;
    }
    wrote = true;
    since_output += n;
    write_off_ += n;
    core_->counters().bytes_written.Add(n);
  }
  if (wrote) Output();
  return write_slice_ >= sb->count;
}

void EndpointImpl::Output() {
  if (!core_->stack().Corking()) {
    tcp_output(pcb_);
    return;
  }
  if (corked_) return;  // already kept for this batch's end
  corked_ = true;
  core_->stack().Cork([self = shared_from_this()]() BYPASS_REQUIRES_TOKEN {
    self->corked_ = false;
    if (self->pcb_ != nullptr) tcp_output(self->pcb_);
  });
}

void EndpointImpl::Fail(absl::Status status) {
  if (error_.ok()) error_ = status;
  if (on_read_) {
    read_buf_ = nullptr;
    Complete(std::move(on_read_), error_);
    on_read_ = nullptr;
  }
  if (on_write_) {
    write_buf_ = nullptr;
    Complete(std::move(on_write_), error_);
    on_write_ = nullptr;
  }
  Detach(/*close=*/true);
}

void EndpointImpl::Detach(bool close) {
  for (pbuf* p : rx_) pbuf_free(p);
  rx_.clear();
  if (pcb_ != nullptr) {
    tcp_arg(pcb_, nullptr);
    tcp_recv(pcb_, nullptr);
    tcp_sent(pcb_, nullptr);
    tcp_err(pcb_, nullptr);
    if (close && tcp_close(pcb_) != ERR_OK) {  // out of memory: reset
      tcp_abort(pcb_);
      aborted_ = true;  // inside an lwIP callback, it must now return ERR_ABRT
    }
    pcb_ = nullptr;
  }
  // Last: may drop the final reference, but a posted closure or the caller still holds one.
  if (self_ != nullptr) core_->counters().endpoints_closed.Inc();
  self_.reset();
}

err_t EndpointImpl::OnRecv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err) {
  auto* ep = static_cast<EndpointImpl*>(arg);
  if (ep == nullptr) {  // detached: drop the data but keep the window open
    if (p != nullptr) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == nullptr) {
    ep->eof_ = true;
  } else {
    if (err != ERR_OK) {
      pbuf_free(p);
      return ERR_OK;
    }
    // Split the chain: each pbuf becomes one slice, freed on its own. In a chain each pbuf
    // holds the reference to the next; detaching hands that reference to us.
    while (p != nullptr) {
      pbuf* next = p->next;
      p->next = nullptr;
      p->tot_len = p->len;
      if (p->len == 0) {
        pbuf_free(p);
      } else {
        ep->rx_.push_back(p);
      }
      p = next;
    }
  }
  auto keep = ep->shared_from_this();
  ep->DeliverRead();
  return ep->aborted_ ? ERR_ABRT : ERR_OK;
}

err_t EndpointImpl::OnSent(void* arg, tcp_pcb*, u16_t) {
  auto* ep = static_cast<EndpointImpl*>(arg);
  if (ep == nullptr) return ERR_OK;
  // PumpWrite may fail the endpoint: Detach() drops its self-reference and may abort the
  // pcb; lwIP must then hear ERR_ABRT, or tcp_input goes on using the freed pcb.
  auto keep = ep->shared_from_this();
  ep->PumpWrite();
  return ep->aborted_ ? ERR_ABRT : ERR_OK;
}

void EndpointImpl::OnErr(void* arg, err_t err) {
  auto* ep = static_cast<EndpointImpl*>(arg);
  if (ep == nullptr) return;
  ep->pcb_ = nullptr;  // lwIP has freed it
  auto keep = ep->shared_from_this();
  ep->Fail(ConnectionError(err));
}

// ---- the public Endpoint ----------------------------------------------------------------

LwipEndpoint::IoResult LwipEndpoint::Read(absl::AnyInvocable<void(absl::Status)> on_read,
                                          SliceBuffer* buffer, ReadArgsParam) {
  // Completions of turns taken here are offloaded: the EventEngine contract.
#if GRPC_BYPASS_EE_IO_RETURNS_BOOL
  const EndpointImpl::Now now = impl_->ReadNow(on_read, buffer);
  if (now == EndpointImpl::Now::kNotTried) {
    impl_->Read(std::move(on_read), buffer, Stack::After::kOffload);
  }
  return now == EndpointImpl::Now::kDone;
#else
  impl_->Read(std::move(on_read), buffer, Stack::After::kOffload);
#endif
}

LwipEndpoint::IoResult LwipEndpoint::Write(absl::AnyInvocable<void(absl::Status)> on_writable,
                                           SliceBuffer* data, WriteArgsParam) {
#if GRPC_BYPASS_EE_IO_RETURNS_BOOL
  const EndpointImpl::Now now = impl_->WriteNow(on_writable, data);
  if (now == EndpointImpl::Now::kNotTried) {
    impl_->Write(std::move(on_writable), data, Stack::After::kOffload);
  }
  return now == EndpointImpl::Now::kDone;
#else
  impl_->Write(std::move(on_writable), data, Stack::After::kOffload);
#endif
}

}  // namespace grpc_bypass::engine
