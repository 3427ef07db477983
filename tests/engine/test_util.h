// Helpers for tests that run an engine on a net_tap port in a test namespace
// (tests/integration/run_in_tap_ns.sh): kernel peers, addresses, blocking read/write helpers.
#ifndef GRPC_BYPASS_TESTS_ENGINE_TEST_UTIL_H
#define GRPC_BYPASS_TESTS_ENGINE_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpc/event_engine/event_engine.h>
#include <grpc/event_engine/memory_allocator.h>
#include <grpc/slice.h>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/functional/any_invocable.h"
#include "gtest/gtest.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/grpc_features.h"
#include "transport/lwip/config.h"

namespace grpc_bypass::engine::test_util {

using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::Slice;
using grpc_event_engine::experimental::SliceBuffer;
using namespace std::chrono_literals;

// A MemoryAllocator whose reservations are simply counted (the engine must pair them).
class CountingAllocator : public grpc_event_engine::experimental::internal::MemoryAllocatorImpl {
 public:
  size_t Reserve(grpc_event_engine::experimental::MemoryRequest request) override {
    reserved += request.max();
    return request.max();
  }
  void Release(size_t n) override { reserved -= n; }
  void Shutdown() override {}
  // Pure virtual in gRPC 1.83 (MemoryAllocator::MakeSlice calls it), absent in 1.51 (where
  // MemoryAllocator makes the slice itself): so no `override`. As gRPC's own: the bytes stay
  // reserved until the slice is freed.
  grpc_slice MakeSlice(grpc_event_engine::experimental::MemoryRequest request) {
    struct Owned {
      CountingAllocator* allocator;
      size_t n;
      void* bytes;
    };
    const size_t n = Reserve(request);
    void* bytes = std::malloc(n == 0 ? 1 : n);
    return grpc_slice_new_with_user_data(
        bytes, n,
        [](void* p) {
          auto* o = static_cast<Owned*>(p);
          o->allocator->Release(o->n);
          std::free(o->bytes);
          delete o;
        },
        new Owned{this, n, bytes});
  }
  std::atomic<int64_t> reserved{0};
};

class NullConfig : public grpc_event_engine::experimental::EndpointConfig {
 public:
  absl::optional<int> GetInt(absl::string_view) const override { return absl::nullopt; }
  absl::optional<absl::string_view> GetString(absl::string_view) const override { return absl::nullopt; }
  void* GetVoidPointer(absl::string_view) const override { return nullptr; }
};

inline MemoryAllocator NewAllocator(std::shared_ptr<CountingAllocator>* out = nullptr) {
  auto impl = std::make_shared<CountingAllocator>();
  if (out) *out = impl;
  return MemoryAllocator(impl);
}

inline EventEngine::ResolvedAddress Addr(const char* ip, int port) {
  sockaddr_in6 a6{};
  sockaddr_in a4{};
  if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
    return EventEngine::ResolvedAddress(reinterpret_cast<sockaddr*>(&a4), sizeof(a4));
  }
  inet_pton(AF_INET6, ip, &a6.sin6_addr);
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons(port);
  return EventEngine::ResolvedAddress(reinterpret_cast<sockaddr*>(&a6), sizeof(a6));
}

// Blocking socket calls in this process can be interrupted by DPDK's signals (net_tap uses
// SIGIO): retry on EINTR and finish short writes.
inline ssize_t ReadRetry(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}
inline bool WriteFull(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// A kernel TCP server on `ip` (default 198.18.0.1, the namespace's kernel side): echoes what it reads;
// with close_after > 0 it closes a connection after echoing that many bytes; with
// never_read it accepts and never reads (to fill windows); with discard it reads and counts
// what it read (received()) without echoing it.
class KernelServer {
 public:
  explicit KernelServer(size_t close_after = 0, bool never_read = false,
                        const char* ip = "198.18.0.1", bool discard = false)
      : close_after_(close_after), never_read_(never_read), discard_(discard) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    EXPECT_EQ(listen(fd_, 1024), 0);
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~KernelServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
    for (int c : held_) close(c);
  }
  int port() const { return port_; }
  size_t received() const { return received_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0 && errno == EINTR) continue;
      if (c < 0) return;
      if (never_read_) {
        held_.push_back(c);
        continue;
      }
      conns_.emplace_back([this, c] {
        char buf[65536];
        size_t total = 0;
        for (;;) {
          ssize_t n = ReadRetry(c, buf, sizeof(buf));
          if (n <= 0) break;
          received_ += static_cast<size_t>(n);
          if (discard_) continue;
          if (!WriteFull(c, buf, static_cast<size_t>(n))) break;
          total += n;
          if (close_after_ > 0 && total >= close_after_) break;
        }
        close(c);
      });
    }
  }
  int fd_, port_;
  size_t close_after_;
  bool never_read_;
  bool discard_;
  std::atomic<size_t> received_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::vector<int> held_;
};

// A connect to IP:PORT and its result (a test failure if it does not finish within 15 s).
inline absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> Connect(
    EventEngine& ee, const char* ip, int port,
    const grpc_event_engine::experimental::EndpointConfig& config = NullConfig()) {
  absl::Notification done;
  absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> result = absl::UnknownError("not run");
  ee.Connect(
      [&](absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> r) {
        result = std::move(r);
        done.Notify();
      },
      Addr(ip, port), config, NewAllocator(), 10s);
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(15)));
  return result;
}

inline std::unique_ptr<EventEngine::Endpoint> ConnectOrDie(
    EventEngine& ee, const char* ip, int port,
    const grpc_event_engine::experimental::EndpointConfig& config = NullConfig()) {
  absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> result = Connect(ee, ip, port, config);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? std::move(*result) : nullptr;
}

// Endpoint::Read and Write on every gRPC version: the arguments by pointer (< 1.73) or by
// value, and from 1.54 a `true` return for "done at once, OK", when the callback never runs
// (here it then runs with OK, so that callers see one completion either way).
inline void StartRead(EventEngine::Endpoint* ep, absl::AnyInvocable<void(absl::Status)> cb,
                      SliceBuffer* buf, int64_t read_hint) {
  auto shared = std::make_shared<absl::AnyInvocable<void(absl::Status)>>(std::move(cb));
  auto forward = [shared](absl::Status s) { (*shared)(std::move(s)); };
#if GRPC_BYPASS_EE_ARGS_BY_VALUE
  EventEngine::Endpoint::ReadArgs args;
  args.set_read_hint_bytes(read_hint);
  if (ep->Read(std::move(forward), buf, std::move(args))) (*shared)(absl::OkStatus());
#elif GRPC_BYPASS_EE_IO_RETURNS_BOOL
  EventEngine::Endpoint::ReadArgs args{read_hint};
  if (ep->Read(std::move(forward), buf, &args)) (*shared)(absl::OkStatus());
#else
  EventEngine::Endpoint::ReadArgs args{read_hint};
  ep->Read(std::move(forward), buf, &args);
#endif
}

inline void StartWrite(EventEngine::Endpoint* ep, absl::AnyInvocable<void(absl::Status)> cb,
                       SliceBuffer* buf) {
  auto shared = std::make_shared<absl::AnyInvocable<void(absl::Status)>>(std::move(cb));
  auto forward = [shared](absl::Status s) { (*shared)(std::move(s)); };
#if GRPC_BYPASS_EE_ARGS_BY_VALUE
  if (ep->Write(std::move(forward), buf, EventEngine::Endpoint::WriteArgs())) (*shared)(absl::OkStatus());
#elif GRPC_BYPASS_EE_IO_RETURNS_BOOL
  if (ep->Write(std::move(forward), buf, nullptr)) (*shared)(absl::OkStatus());
#else
  ep->Write(std::move(forward), buf, nullptr);
#endif
}

// A helper below that waits for an endpoint's callback gives up after kHungAfter: the test
// hangs. It then prints one line naming the wait, and what the binary's hang report says
// (HangReport(): the stack's state, set by the test's main), and exits at once (status 3),
// since the callback may still come and must not find the waiter's frame gone. Without this
// a lost completion showed only as a timeout with nothing to go on.
constexpr absl::Duration kHungAfter = absl::Seconds(40);
inline absl::AnyInvocable<void()>& HangReport() {
  static auto* report = new absl::AnyInvocable<void()>();
  return *report;
}
inline void AwaitOrExit(absl::Notification& done, const char* what) {
  if (done.WaitForNotificationWithTimeout(kHungAfter)) return;
  std::fprintf(stderr, "HUNG: %s: no callback within %s\n", what,
               absl::FormatDuration(kHungAfter).c_str());
  std::fflush(stderr);
  if (HangReport()) HangReport()();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(3);
}

inline absl::Status WriteAll(EventEngine::Endpoint* ep, const std::string& data) {
  SliceBuffer buf;
  buf.Append(Slice::FromCopiedString(data));
  absl::Notification done;
  absl::Status st;
  StartWrite(ep, [&](absl::Status s) { st = s; done.Notify(); }, &buf);
  AwaitOrExit(done, "WriteAll");
  return st;
}

inline absl::StatusOr<std::string> ReadExactly(EventEngine::Endpoint* ep, size_t n) {
  std::string out;
  while (out.size() < n) {
    SliceBuffer buf;
    absl::Notification done;
    absl::Status st;
    StartRead(ep, [&](absl::Status s) { st = s; done.Notify(); }, &buf,
              static_cast<int64_t>(n - out.size()));
    AwaitOrExit(done, "ReadExactly");
    if (!st.ok()) return st;
    for (size_t i = 0; i < buf.Count(); ++i) {
      Slice s = buf.RefSlice(i);
      out.append(reinterpret_cast<const char*>(s.data()), s.size());
    }
  }
  return out;
}

inline std::string Pattern(size_t n, int seed) {
  std::string s(n, 0);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed) % 251);
  return s;
}

// Starts the engine core from BYPASS_* and runs KERNEL_SETUP (the namespace's side of the
// tap); exits with one line on failure.
// A kernel socket on the peer's address, bound to a port of its own choosing; listening or not.
inline int KernelSocketOnPeer(bool listening, int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "198.18.0.1", &a.sin_addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  if (listening) {
    EXPECT_EQ(listen(fd, 4), 0);
  }
  return fd;
}

inline EngineCore* StartCoreForTest(const char* name) {
  auto cfg = StackConfigFromEnvironment();
  ExitIfError(cfg.status(), name);
  auto core = EngineCore::Start(*cfg);
  ExitIfError(core.status(), name);
  if (const char* setup = std::getenv("KERNEL_SETUP")) {
    if (std::system(setup) != 0) {
      std::fprintf(stderr, "%s: kernel-side setup failed\n", name);
      std::exit(2);
    }
  }
  return *core;
}

}  // namespace grpc_bypass::engine::test_util

#endif  // GRPC_BYPASS_TESTS_ENGINE_TEST_UTIL_H
