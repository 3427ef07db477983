// Initial sequence numbers (RFC 6528): grpc_bypass_tcp_isn, the LWIP_HOOK_TCP_ISN of our port.
#include <cstdint>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "lwip/ip_addr.h"
#include "lwip/opt.h"

namespace {

ip_addr_t V4(const char* s) {
  ip_addr_t a;
  ipaddr_aton(s, &a);
  return a;
}

TEST(Isn, TheSameConnectionAdvancesWithTheFourMicrosecondClock) {
  ip_addr_t l = V4("198.18.0.2"), r = V4("198.18.0.1");
  const uint32_t a = grpc_bypass_tcp_isn(&l, 50051, &r, 40000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const uint32_t b = grpc_bypass_tcp_isn(&l, 50051, &r, 40000);
  const uint32_t d = b - a;  // 20 ms = 5000 ticks of 4 us (allow for a slow machine)
  EXPECT_GE(d, 5000u);
  EXPECT_LT(d, 5000u * 50);
}

TEST(Isn, NeighbouringConnectionsGetUnrelatedNumbers) {
  ip_addr_t l = V4("198.18.0.2"), r = V4("198.18.0.1");
  std::set<uint32_t> seen;
  int small_steps = 0;
  uint32_t prev = grpc_bypass_tcp_isn(&l, 50051, &r, 40000);
  for (uint16_t port = 40001; port < 41001; ++port) {
    const uint32_t isn = grpc_bypass_tcp_isn(&l, 50051, &r, port);
    seen.insert(isn);
    if (static_cast<uint32_t>(isn - prev) < (1u << 20)) ++small_steps;  // predictable step?
    prev = isn;
  }
  EXPECT_EQ(seen.size(), 1000u);
  // With a keyed hash, a step below 2^20 happens with probability 2^-12: a few at most.
  EXPECT_LT(small_steps, 10);
}

TEST(Isn, AddressFamilyAndEveryTupleFieldChangeTheNumber) {
  ip_addr_t l = V4("198.18.0.2"), r = V4("198.18.0.1"), r2 = V4("198.18.0.3");
  ip_addr_t l6, r6;
  ipaddr_aton("fd00:77::2", &l6);
  ipaddr_aton("fd00:77::1", &r6);
  const uint32_t base = grpc_bypass_tcp_isn(&l, 1, &r, 2);
  // Far apart (the clock moves by tens of ticks between calls at most).
  auto far = [base](uint32_t x) { return static_cast<uint32_t>(x - base) > 100000u; };
  EXPECT_TRUE(far(grpc_bypass_tcp_isn(&l, 1, &r2, 2)));
  EXPECT_TRUE(far(grpc_bypass_tcp_isn(&l, 3, &r, 2)));
  EXPECT_TRUE(far(grpc_bypass_tcp_isn(&r, 1, &l, 2)));
  EXPECT_TRUE(far(grpc_bypass_tcp_isn(&l6, 1, &r6, 2)));
}

}  // namespace
