// Test helper: EAL without hugepages and net_ring port pairs ("a wire" between two ports).
#ifndef GRPC_BYPASS_TESTS_DPDK_RING_PAIR_H
#define GRPC_BYPASS_TESTS_DPDK_RING_PAIR_H

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "transport/dpdk/eal.h"

namespace grpc_bypass::testing {

inline constexpr char kTestEal[] =
    "--no-huge -m 512 --no-shconf --no-pci --no-telemetry -l 0 --log-level=lib.eal:error";

// Creates two ring ports wired to each other; `ring_size` bounds what tx_burst accepts before
// the other side reads (a ring of N holds N-1). Returns {a, b} port ids.
inline std::pair<uint16_t, uint16_t> MakeRingPair(const std::string& name, unsigned ring_size) {
  rte_ring* ab = rte_ring_create((name + "_ab").c_str(), ring_size, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* ba = rte_ring_create((name + "_ba").c_str(), ring_size, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  EXPECT_NE(ab, nullptr);
  EXPECT_NE(ba, nullptr);
  int a = rte_eth_from_rings((name + "_a").c_str(), &ba, 1, &ab, 1, SOCKET_ID_ANY);
  int b = rte_eth_from_rings((name + "_b").c_str(), &ab, 1, &ba, 1, SOCKET_ID_ANY);
  EXPECT_GE(a, 0);
  EXPECT_GE(b, 0);
  return {static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
}

}  // namespace grpc_bypass::testing

#endif  // GRPC_BYPASS_TESTS_DPDK_RING_PAIR_H
