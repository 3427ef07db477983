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
// With `queues` > 1, queue q of one end is wired to queue q of the other.
inline std::pair<uint16_t, uint16_t> MakeRingPair(const std::string& name, unsigned ring_size,
                                                  unsigned queues = 1) {
  rte_ring* ab[RTE_MAX_QUEUES_PER_PORT];
  rte_ring* ba[RTE_MAX_QUEUES_PER_PORT];
  for (unsigned q = 0; q < queues; ++q) {
    const std::string sq = std::to_string(q);
    ab[q] = rte_ring_create((name + "_ab" + sq).c_str(), ring_size, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    ba[q] = rte_ring_create((name + "_ba" + sq).c_str(), ring_size, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    EXPECT_NE(ab[q], nullptr);
    EXPECT_NE(ba[q], nullptr);
  }
  int a = rte_eth_from_rings((name + "_a").c_str(), ba, queues, ab, queues, SOCKET_ID_ANY);
  int b = rte_eth_from_rings((name + "_b").c_str(), ab, queues, ba, queues, SOCKET_ID_ANY);
  EXPECT_GE(a, 0);
  EXPECT_GE(b, 0);
  return {static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
}

}  // namespace grpc_bypass::testing

#endif  // GRPC_BYPASS_TESTS_DPDK_RING_PAIR_H
