// What stopping the stack (process exit: EngineCore::Shutdown from Enable()'s atexit) does to
// open connections and to calls made afterwards. Its own binary, because a stopped EngineCore
// cannot restart: engine_test's cases then run in any order (--gtest_shuffle).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>

#include <grpc/event_engine/event_engine.h>
#include <grpc/grpc.h>

#include "gtest/gtest.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/lwip_engine.h"
#include "tests/engine/test_util.h"

namespace grpc_bypass::engine {
namespace {

using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::Slice;
using grpc_event_engine::experimental::SliceBuffer;
using namespace std::chrono_literals;
using namespace test_util;  // NOLINT

EngineCore* g_core = nullptr;

// recv() on `fd` within `ms`: its result, or -2 on timeout; errno as recv left it.
int RecvWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return -2;
  char c;
  return static_cast<int>(recv(fd, &c, 1, 0));
}

TEST(StackStop, OpenConnectionsAreResetSoPeersLearnAtOnceAndLateCallsFailOnce) {
  LwipEventEngine ee(g_core);
  // A kernel peer that has accepted our connection.
  int port = 0;
  const int lfd = KernelSocketOnPeer(/*listening=*/true, &port);
  auto ep = ConnectOrDie(ee, "198.18.0.1", port);
  ASSERT_NE(ep, nullptr);
  const int peer = accept(lfd, nullptr, nullptr);
  ASSERT_GE(peer, 0);

  g_core->Shutdown();  // the stack and the executor stop (as at process exit)
  errno = 0;
  const int r = RecvWithin(peer, 2000);
  EXPECT_EQ(r, -1) << "the peer heard nothing (timeout) or a FIN (0): the connection stays "
                      "open on its side";
  EXPECT_EQ(errno, ECONNRESET);
  close(peer);
  close(lfd);

  // Calls after the stop: each callback runs exactly once, with an error, before the call
  // returns (nothing is left to run it later).
  std::atomic<int> reads{0}, writes{0}, connects{0};
  absl::Status read_st, write_st, connect_st;
  SliceBuffer rbuf, wbuf;
  wbuf.Append(Slice::FromCopiedString("late"));
  StartRead(ep.get(), [&](absl::Status s) { read_st = s; reads++; }, &rbuf, 1);
  StartWrite(ep.get(), [&](absl::Status s) { write_st = s; writes++; }, &wbuf);
  ep.reset();
  ee.Connect(
      [&](absl::StatusOr<std::unique_ptr<EventEngine::Endpoint>> r) {
        connect_st = r.status();
        connects++;
      },
      Addr("198.18.0.1", port), NullConfig(), NewAllocator(), 5s);
  EXPECT_EQ(reads.load(), 1);
  EXPECT_EQ(writes.load(), 1);
  EXPECT_EQ(connects.load(), 1);
  EXPECT_FALSE(read_st.ok());
  EXPECT_FALSE(write_st.ok());
  EXPECT_FALSE(connect_st.ok());
  EXPECT_FALSE(g_core->stack().RunHereOrQueue([] {})) << "RunHereOrQueue after the stop";
  EXPECT_FALSE(g_core->stack().RunAndWait([] {})) << "RunAndWait after the stop";
}

}  // namespace
}  // namespace grpc_bypass::engine

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  grpc_bypass::engine::g_core = grpc_bypass::engine::test_util::StartCoreForTest("stop_test");
  grpc_init();
  int r = RUN_ALL_TESTS();
  std::fflush(stdout);
  std::_Exit(r);
}
