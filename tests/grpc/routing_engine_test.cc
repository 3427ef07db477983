// RoutingEventEngine (the bypass's EventEngine for gRPC >= 1.60, built here against 1.51's
// interface) on a real net_tap port in a test namespace: bypass addresses go through lwIP and
// DPDK, loopback through gRPC's own posix EventEngine on kernel sockets.
#include "transport/grpc/routing_engine.h"

#include <grpc/grpc.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/engine/test_util.h"
#include "transport/engine/executor.h"

namespace grpc_bypass {
namespace {

using engine::test_util::Addr;
using engine::test_util::ConnectOrDie;
using engine::test_util::KernelServer;
using engine::test_util::NewAllocator;
using engine::test_util::NullConfig;
using engine::test_util::Pattern;
using engine::test_util::ReadExactly;
using engine::test_util::WriteAll;
using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::MemoryAllocatorFactory;
using namespace std::chrono_literals;

engine::EngineCore* g_core = nullptr;

std::unique_ptr<RoutingEventEngine> NewEngine() {
  return std::make_unique<RoutingEventEngine>(
      g_core, std::shared_ptr<EventEngine>(grpc_event_engine::experimental::CreateEventEngine()));
}

// gRPC's posix engine needs a resource quota in the config (as gRPC's channels pass one).
class QuotaConfig : public grpc_event_engine::experimental::EndpointConfig {
 public:
  QuotaConfig() : quota_(grpc_resource_quota_create("routing_engine_test")) {}
  ~QuotaConfig() override { grpc_resource_quota_unref(quota_); }
  absl::optional<int> GetInt(absl::string_view) const override { return absl::nullopt; }
  absl::optional<absl::string_view> GetString(absl::string_view) const override {
    return absl::nullopt;
  }
  void* GetVoidPointer(absl::string_view key) const override {
    return key == GRPC_ARG_RESOURCE_QUOTA ? quota_ : nullptr;
  }

 private:
  grpc_resource_quota* quota_;
};

void EchoThrough(EventEngine& ee, const char* ip, int port) {
  QuotaConfig config;
  std::unique_ptr<EventEngine::Endpoint> ep = ConnectOrDie(ee, ip, port, config);
  ASSERT_NE(ep, nullptr);
  const std::string data = Pattern(100000, 3);
  ASSERT_TRUE(WriteAll(ep.get(), data).ok());
  absl::StatusOr<std::string> back = ReadExactly(ep.get(), data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(RoutingEngine, ConnectToTheBypassSubnetGoesThroughLwipAndDpdk) {
  KernelServer server(/*close_after=*/0, /*never_read=*/false, "198.18.0.1");
  auto ee = NewEngine();
  const auto before = g_core->router().counters();
  const uint64_t opened = g_core->counters().endpoints_opened.Get();
  EchoThrough(*ee, "198.18.0.1", server.port());
  const auto after = g_core->router().counters();
  EXPECT_EQ(after.bypass_connects, before.bypass_connects + 1);
  EXPECT_EQ(after.kernel_connects, before.kernel_connects);
  EXPECT_EQ(g_core->counters().endpoints_opened.Get(), opened + 1);  // an lwIP endpoint
}

TEST(RoutingEngine, ConnectToLoopbackFallsBackToTheKernelEngine) {
  KernelServer server(/*close_after=*/0, /*never_read=*/false, "127.0.0.1");
  auto ee = NewEngine();
  const auto before = g_core->router().counters();
  const uint64_t opened = g_core->counters().endpoints_opened.Get();
  EXPECT_FALSE(g_core->router().CanConnect(Addr("127.0.0.1", server.port())).ok());
  EchoThrough(*ee, "127.0.0.1", server.port());
  const auto after = g_core->router().counters();
  EXPECT_EQ(after.kernel_connects, before.kernel_connects + 1);
  EXPECT_EQ(after.bypass_connects, before.bypass_connects);
  EXPECT_EQ(g_core->counters().endpoints_opened.Get(), opened);  // no lwIP endpoint
}

TEST(RoutingEngine, CancelConnectOfAHandleItDidNotIssueIsFalse) {
  auto ee = NewEngine();
  EXPECT_FALSE(ee->CancelConnect(EventEngine::ConnectionHandle{{12345, 1}}));
  EXPECT_FALSE(ee->CancelConnect(EventEngine::ConnectionHandle{{999999, 0x7274}}));
}

TEST(RoutingEngine, CancelConnectToASilentBypassHostReachesTheLwipEngine) {
  auto ee = NewEngine();
  absl::Notification done;
  absl::Status st;
  // 198.18.0.77 is in the bypass subnet and nobody answers (ARP fails): the connect hangs.
  EventEngine::ConnectionHandle h = ee->Connect(
      [&](absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> r) {
        st = r.status();
        done.Notify();
      },
      Addr("198.18.0.77", 9), NullConfig(), NewAllocator(), 30s);
  EXPECT_TRUE(ee->CancelConnect(h));
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(300)));  // not called
  EXPECT_FALSE(ee->CancelConnect(h));  // once only
}

class CountingFactory : public MemoryAllocatorFactory {
 public:
  MemoryAllocator CreateMemoryAllocator(absl::string_view) override { return NewAllocator(); }
};

TEST(RoutingEngine, ListenerOnTheWildcardAcceptsOnTheBypassAndShutsDownOnce) {
  auto ee = NewEngine();
  absl::Notification accepted, shut;
  int shutdowns = 0;
  std::unique_ptr<EventEngine::Endpoint> server_ep;
  {
    NullConfig config;
    auto listener = ee->CreateListener(
        [&](std::unique_ptr<EventEngine::Endpoint> ep, MemoryAllocator) {
          server_ep = std::move(ep);
          accepted.Notify();
        },
        [&](absl::Status) {
          ++shutdowns;
          shut.Notify();
        },
        config, std::make_unique<CountingFactory>());
    ASSERT_TRUE(listener.ok()) << listener.status();
    const auto before = g_core->router().counters();
    absl::StatusOr<int> port = (*listener)->Bind(Addr("0.0.0.0", 0));
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_GT(*port, 0);
    EXPECT_EQ(g_core->router().counters().bypass_binds, before.bypass_binds + 1);
    EXPECT_EQ(g_core->router().counters().kernel_binds, before.kernel_binds);
    ASSERT_TRUE((*listener)->Start().ok());
    // A kernel client in the namespace reaches the bypass address.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(*port);
    inet_pton(AF_INET, "198.18.0.2", &a.sin_addr);
    int rc;
    do {
      rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    } while (rc != 0 && errno == EINTR);
    ASSERT_EQ(rc, 0) << strerror(errno);
    ASSERT_TRUE(accepted.WaitForNotificationWithTimeout(absl::Seconds(10)));
    // Counted by the Router for the stats (grpc.bypass_accepts), on every gRPC version.
    EXPECT_EQ(g_core->router().counters().bypass_accepts, before.bypass_accepts + 1);
    ASSERT_TRUE(engine::test_util::WriteFull(fd, "hello", 5));
    absl::StatusOr<std::string> got = ReadExactly(server_ep.get(), 5);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "hello");
    close(fd);
    server_ep.reset();
  }
  ASSERT_TRUE(shut.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(shutdowns, 1);
}

TEST(RoutingEngine, TimersAndClosuresRunOnTheBypassEngine) {
  auto ee = NewEngine();
  absl::Notification ran, fired;
  std::atomic<bool> ran_on_ours{false}, fired_on_ours{false};
  ee->Run([&] {
    ran_on_ours = engine::Executor::OnExecutorThread();
    ran.Notify();
  });
  ee->RunAfter(20ms, [&] {
    fired_on_ours = engine::Executor::OnExecutorThread();
    fired.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(ran_on_ours) << "Run went to the fallback engine";
  EXPECT_TRUE(fired_on_ours) << "RunAfter went to the fallback engine";
  absl::Notification never;
  EXPECT_TRUE(ee->Cancel(ee->RunAfter(10s, [&] { never.Notify(); })));
}

}  // namespace
}  // namespace grpc_bypass

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // gRPC 1.51's posix EventEngine connects only with this experiment on.
  setenv("GRPC_EXPERIMENTS", "posix_event_engine_enable_polling", 1);
  grpc_bypass::g_core = grpc_bypass::engine::test_util::StartCoreForTest("routing_engine_test");
  grpc_init();
  const int r = RUN_ALL_TESTS();
  std::fflush(stdout);
  std::_Exit(r);
}
