// tcp_echo_client: the client for DPDK-to-DPDK echo runs (its own lwIP stack on its own port).
//
//   tcp_echo_client --connect=198.18.0.1:7 --mode=bulk --bytes=16777216
//   tcp_echo_client --connect=198.18.0.1:7 --mode=pingpong --count=10000 --size=64
//
// bulk: sends a pattern and checks every echoed byte. pingpong: one message in flight at a
// time; prints RTT percentiles. Exit 0 on success, 1 on a failed check, 2 on bad config.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "examples/echo/latency.h"
#include "lwip/priv/tcp_priv.h"  // tcp_active_pcbs: wait for the close handshake
#include "lwip/tcp.h"
#include "transport/lwip/config.h"
#include "transport/lwip/err.h"
#include "transport/lwip/stack.h"

ABSL_FLAG(std::string, connect, "", "server IPv4:PORT");
ABSL_FLAG(std::string, mode, "bulk", "bulk | pingpong");
ABSL_FLAG(int64_t, bytes, 16 << 20, "bulk: bytes to send and verify");
ABSL_FLAG(int, count, 10000, "pingpong: round trips");
ABSL_FLAG(int, size, 64, "pingpong: message size in bytes");
ABSL_FLAG(int, warmup, 100, "pingpong: round trips not counted");
ABSL_FLAG(int, timeout_s, 120, "give up after this many seconds");

namespace {

using Clock = std::chrono::steady_clock;

inline uint8_t PatternByte(uint64_t i) { return static_cast<uint8_t>(i % 251); }

// All fields are touched by the stack's token holder only, until `done` is notified.
struct Client {
  bool pingpong = false;
  uint64_t total = 0;      // bulk: bytes to send
  int size = 64, count = 0, warmup = 0;
  std::vector<uint8_t> pattern;  // 251 * 261 bytes: any offset has a long contiguous run
  tcp_pcb* pcb = nullptr;
  uint64_t sent = 0, received = 0;
  // pingpong
  int done_trips = 0;
  uint64_t trip_received = 0;
  Clock::time_point trip_start;
  std::vector<double> rtt_us;
  Clock::time_point start, end;
  absl::Status status;
  absl::Notification done;

  void Finish(absl::Status st) {
    if (done.HasBeenNotified()) return;
    status = std::move(st);
    end = Clock::now();
    if (pcb != nullptr) {
      tcp_arg(pcb, nullptr);
      tcp_recv(pcb, nullptr);
      tcp_sent(pcb, nullptr);
      tcp_err(pcb, nullptr);
      if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
      pcb = nullptr;
    }
    done.Notify();
  }

  // Writes up to `limit` pattern bytes starting at stream offset `sent`.
  void WriteFromPattern(uint64_t limit) {
    bool wrote = false;
    while (sent < limit) {
      const u32_t room = tcp_sndbuf(pcb);
      if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 2) break;
      const size_t off = sent % 251;
      const u16_t n = static_cast<u16_t>(
          std::min<uint64_t>({room, limit - sent, pattern.size() - off, 0xffffu}));
      err_t e = tcp_write(pcb, pattern.data() + off, n, 0);  // pattern outlives the data
      if (e == ERR_MEM) break;
      if (e != ERR_OK) return Finish(grpc_bypass::LwipErrToStatus(e, "tcp_write"));
      sent += n;
      wrote = true;
    }
    if (wrote) tcp_output(pcb);
  }

  void StartTrip() {
    trip_start = Clock::now();
    trip_received = 0;
    WriteFromPattern(sent + size);
  }

  void OnData(pbuf* p) {
    for (pbuf* q = p; q != nullptr; q = q->next) {
      const auto* b = static_cast<const uint8_t*>(q->payload);
      for (u16_t i = 0; i < q->len; ++i) {
        if (b[i] != PatternByte(received + i)) {
          return Finish(absl::DataLossError(absl::StrCat(
              "echoed byte ", received + i, " is ", b[i], ", expected ",
              PatternByte(received + i))));
        }
      }
      received += q->len;
      trip_received += q->len;
    }
    if (!pingpong) {
      if (received == total) return Finish(absl::OkStatus());
      WriteFromPattern(total);
      return;
    }
    if (trip_received >= static_cast<uint64_t>(size)) {
      if (trip_received != static_cast<uint64_t>(size)) {
        return Finish(absl::DataLossError("pingpong: more bytes echoed than sent"));
      }
      const double us =
          std::chrono::duration<double, std::micro>(Clock::now() - trip_start).count();
      if (done_trips >= warmup) rtt_us.push_back(us);
      if (++done_trips == count + warmup) return Finish(absl::OkStatus());
      StartTrip();
    }
  }
};

err_t OnRecv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
  auto* c = static_cast<Client*>(arg);
  if (c == nullptr) {
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  if (p == nullptr) {
    c->Finish(absl::UnavailableError(
        absl::StrCat("server closed the connection after ", c->received, " bytes")));
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);
  c->OnData(p);
  pbuf_free(p);
  return ERR_OK;
}

err_t OnSent(void* arg, tcp_pcb*, u16_t) {
  auto* c = static_cast<Client*>(arg);
  if (c != nullptr && !c->pingpong) c->WriteFromPattern(c->total);
  return ERR_OK;
}

void OnErr(void* arg, err_t e) {
  auto* c = static_cast<Client*>(arg);
  if (c == nullptr) return;
  c->pcb = nullptr;  // freed by lwIP
  c->Finish(grpc_bypass::LwipErrToStatus(e, "connection"));
}

err_t OnConnected(void* arg, tcp_pcb* pcb, err_t err) {
  auto* c = static_cast<Client*>(arg);
  if (err != ERR_OK) {
    c->Finish(grpc_bypass::LwipErrToStatus(err, "connect"));
    return ERR_OK;
  }
  tcp_nagle_disable(pcb);
  c->start = Clock::now();
  if (c->pingpong) {
    c->StartTrip();
  } else {
    c->WriteFromPattern(c->total);
  }
  return ERR_OK;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<std::string> hp = absl::StrSplit(absl::GetFlag(FLAGS_connect), ':');
  int port = 0;
  in_addr ip{};
  if (hp.size() != 2 || inet_pton(AF_INET, hp[0].c_str(), &ip) != 1 ||
      !absl::SimpleAtoi(hp[1], &port) || port < 1 || port > 65535) {
    std::fprintf(stderr, "tcp_echo_client: --connect: '%s' is not IPv4:PORT\n",
                 absl::GetFlag(FLAGS_connect).c_str());
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "bulk" && mode != "pingpong") {
    std::fprintf(stderr, "tcp_echo_client: --mode: '%s' is not bulk or pingpong\n", mode.c_str());
    return 2;
  }
  absl::StatusOr<grpc_bypass::StackConfig> cfg = grpc_bypass::StackConfigFromEnvironment();
  grpc_bypass::ExitIfError(cfg.status(), "tcp_echo_client");
  absl::StatusOr<std::unique_ptr<grpc_bypass::Stack>> stack = grpc_bypass::Stack::Start(*cfg);
  grpc_bypass::ExitIfError(stack.status(), "tcp_echo_client");
  grpc_bypass::Stack& s = **stack;

  Client c;
  c.pingpong = mode == "pingpong";
  c.total = static_cast<uint64_t>(absl::GetFlag(FLAGS_bytes));
  c.size = absl::GetFlag(FLAGS_size);
  c.count = absl::GetFlag(FLAGS_count);
  c.warmup = c.pingpong ? absl::GetFlag(FLAGS_warmup) : 0;
  c.pattern.resize(251 * 261);
  for (size_t i = 0; i < c.pattern.size(); ++i) c.pattern[i] = PatternByte(i);

  s.RunAndWait([&] {
    c.pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (c.pcb == nullptr) return c.Finish(absl::ResourceExhaustedError("tcp_new: no pcb"));
    tcp_arg(c.pcb, &c);
    tcp_recv(c.pcb, OnRecv);
    tcp_sent(c.pcb, OnSent);
    tcp_err(c.pcb, OnErr);
    ip_addr_t dst;
    IP_ADDR4(&dst, 0, 0, 0, 0);
    ip4_addr_set_u32(ip_2_ip4(&dst), ip.s_addr);
    err_t e = tcp_connect(c.pcb, &dst, static_cast<u16_t>(port), OnConnected);
    if (e != ERR_OK) {
      tcp_abort(c.pcb);
      c.pcb = nullptr;
      c.Finish(grpc_bypass::LwipErrToStatus(e, "connect"));
    }
  });
  if (!c.done.WaitForNotificationWithTimeout(absl::Seconds(absl::GetFlag(FLAGS_timeout_s)))) {
    s.RunAndWait([&] { c.Finish(absl::DeadlineExceededError("timed out")); });
  }
  // Let the close handshake finish (our FIN acknowledged, the server's FIN acknowledged) so
  // that the server is not left in LAST_ACK; bounded.
  for (int i = 0; i < 200; ++i) {
    bool open = true;
    s.RunAndWait([&] { open = tcp_active_pcbs != nullptr; });
    if (!open) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int rc = 0;
  if (!c.status.ok()) {
    std::fprintf(stderr, "tcp_echo_client: %s (sent %lu, received %lu)\n",
                 std::string(c.status.message()).c_str(), static_cast<unsigned long>(c.sent),
                 static_cast<unsigned long>(c.received));
    rc = 1;
  } else if (!c.pingpong) {
    const double s_elapsed = std::chrono::duration<double>(c.end - c.start).count();
    std::printf("bulk: %lu bytes echoed and verified in %.3f s (%.1f MB/s)\n",
                static_cast<unsigned long>(c.received), s_elapsed,
                c.received / s_elapsed / 1e6);
  } else {
    std::printf("%s\n", grpc_bypass::examples::PingPongLine(c.rtt_us, c.size).c_str());
  }
  std::printf("%s\n", s.Summary().c_str());
  std::fflush(stdout);
  s.Stop();
  return rc;
}
