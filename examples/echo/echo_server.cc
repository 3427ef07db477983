#include "examples/echo/echo_server.h"

#include "lwip/tcp.h"
#include "transport/lwip/err.h"

namespace grpc_bypass::examples {
namespace {

struct EchoConn {
  tcp_pcb* pcb;
  pbuf* pending = nullptr;  // received, not yet queued for echo
  bool peer_closed = false;
  EchoCounters* counters;
};

void Finish(EchoConn* c, bool aborted) {
  if (c->pending) pbuf_free(c->pending);
  c->counters->active.Add(static_cast<uint64_t>(-1));
  (aborted ? c->counters->aborted : c->counters->closed).Inc();
  delete c;
}

void CloseConn(EchoConn* c) {
  tcp_arg(c->pcb, nullptr);
  tcp_recv(c->pcb, nullptr);
  tcp_sent(c->pcb, nullptr);
  tcp_err(c->pcb, nullptr);
  tcp_poll(c->pcb, nullptr, 0);
  if (tcp_close(c->pcb) != ERR_OK) tcp_abort(c->pcb);  // out of memory: reset instead
  Finish(c, /*aborted=*/false);
}

// Queues as much pending data as the send buffer takes. Returns false if `c` was freed.
bool Pump(EchoConn* c) {
  bool wrote = false;
  while (c->pending != nullptr) {
    const u16_t room = static_cast<u16_t>(std::min<u32_t>(tcp_sndbuf(c->pcb), 0xffff));
    if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 2) break;
    if (c->pending->len == 0) {  // an empty pbuf at the head: drop just that one
      pbuf* q = c->pending;
      c->pending = q->next;
      q->next = nullptr;
      pbuf_free(q);
      continue;
    }
    const u16_t n = std::min<u16_t>(room, c->pending->len);
    // MORE while more is queued: lwIP then sizes the segment's buffer for a full MSS and
    // appends the next pieces to it (one buffer per segment, sent without a copy on memif).
    const u8_t flags = TCP_WRITE_FLAG_COPY | (n < c->pending->tot_len ? TCP_WRITE_FLAG_MORE : 0);
    if (tcp_write(c->pcb, c->pending->payload, n, flags) != ERR_OK) break;
    wrote = true;
    c->pending = pbuf_free_header(c->pending, n);
    tcp_recved(c->pcb, n);
    c->counters->bytes_echoed.Add(n);
  }
  if (wrote) tcp_output(c->pcb);
  if (c->pending == nullptr && c->peer_closed) {
    CloseConn(c);
    return false;
  }
  return true;
}

err_t OnRecv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err) {
  auto* c = static_cast<EchoConn*>(arg);
  if (c == nullptr) {  // already closing
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == nullptr) {
    c->peer_closed = true;
  } else if (c->pending == nullptr) {
    c->pending = p;
  } else {
    pbuf_cat(c->pending, p);
  }
  (void)err;
  Pump(c);
  return ERR_OK;
}

err_t OnSent(void* arg, tcp_pcb*, u16_t) {
  if (arg) Pump(static_cast<EchoConn*>(arg));
  return ERR_OK;
}

err_t OnPoll(void* arg, tcp_pcb*) {
  if (arg) Pump(static_cast<EchoConn*>(arg));
  return ERR_OK;
}

void OnErr(void* arg, err_t) {
  // lwIP has freed the pcb (reset or abort).
  if (arg) Finish(static_cast<EchoConn*>(arg), /*aborted=*/true);
}

err_t OnAccept(void* arg, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  auto* counters = static_cast<EchoCounters*>(arg);
  auto* c = new EchoConn{pcb, nullptr, false, counters};
  counters->accepted.Inc();
  counters->active.Inc();
  tcp_arg(pcb, c);
  tcp_recv(pcb, OnRecv);
  tcp_sent(pcb, OnSent);
  tcp_err(pcb, OnErr);
  tcp_poll(pcb, OnPoll, 2);
  tcp_nagle_disable(pcb);
  return ERR_OK;
}

}  // namespace

absl::Status StartEchoServer(uint16_t port, EchoCounters* counters) {
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
  if (pcb == nullptr) return LwipErrToStatus(ERR_MEM, "tcp_new");
  err_t e = tcp_bind(pcb, IP_ANY_TYPE, port);
  if (e != ERR_OK) {
    tcp_close(pcb);
    return LwipErrToStatus(e, "bind");
  }
  tcp_pcb* lpcb = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
  if (lpcb == nullptr) {
    tcp_close(pcb);
    return LwipErrToStatus(ERR_MEM, "listen");
  }
  tcp_arg(lpcb, counters);
  tcp_accept(lpcb, OnAccept);
  return absl::OkStatus();
}

}  // namespace grpc_bypass::examples
