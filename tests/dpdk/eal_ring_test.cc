// DPDK foundation check: EAL starts without hugepages (--no-huge -m 512 --no-shconf --no-pci),
// net_ring ports configure and start, and a burst sent on one end arrives intact on the other.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

rte_mempool* g_pool = nullptr;

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::vector<std::string> args = {"eal_ring_test", "--no-huge", "-m",          "512",
                                      "--no-shconf",   "--no-pci",  "--vdev=net_ring0",
                                      "-l",            "0",         "--log-level=lib.eal:error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    int rc = rte_eal_init(static_cast<int>(argv.size()), argv.data());
    ASSERT_GE(rc, 0) << "rte_eal_init failed: " << rte_strerror(rte_errno);
    g_pool = rte_pktmbuf_pool_create("test_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY);
    ASSERT_NE(g_pool, nullptr) << rte_strerror(rte_errno);
  }
  void TearDown() override { rte_eal_cleanup(); }
};

void StartPort(uint16_t port) {
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
  ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), nullptr, g_pool), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(port), 0);
}

// Sends `n` frames with a per-frame pattern on `tx`, reads them on `rx`, checks every byte.
void SendBurstAndVerify(uint16_t tx, uint16_t rx, int n, uint16_t len) {
  std::vector<rte_mbuf*> out(n);
  for (int i = 0; i < n; ++i) {
    out[i] = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(out[i], nullptr);
    char* data = rte_pktmbuf_append(out[i], len);
    ASSERT_NE(data, nullptr);
    for (uint16_t b = 0; b < len; ++b) data[b] = static_cast<char>((i * 31 + b) & 0xff);
  }
  ASSERT_EQ(rte_eth_tx_burst(tx, 0, out.data(), n), n);
  std::vector<rte_mbuf*> in(n);
  int got = 0;
  for (int tries = 0; tries < 1000 && got < n; ++tries) {
    got += rte_eth_rx_burst(rx, 0, in.data() + got, n - got);
  }
  ASSERT_EQ(got, n);
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(rte_pktmbuf_pkt_len(in[i]), len);
    const char* data = rte_pktmbuf_mtod(in[i], const char*);
    for (uint16_t b = 0; b < len; ++b) {
      ASSERT_EQ(data[b], static_cast<char>((i * 31 + b) & 0xff)) << "frame " << i << " byte " << b;
    }
    rte_pktmbuf_free(in[i]);
  }
}

TEST(EalRing, VdevNetRingPortStartsAndLoopsBackABurst) {
  uint16_t port;
  ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring0", &port), 0);
  StartPort(port);
  // A net_ring vdev created without arguments uses the same ring for RX and TX.
  SendBurstAndVerify(port, port, 32, 1000);
  rte_eth_dev_stop(port);
}

TEST(EalRing, BurstSentOnOneEndOfARingPairArrivesIntactOnTheOther) {
  rte_ring* a_to_b = rte_ring_create("a_to_b", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* b_to_a = rte_ring_create("b_to_a", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(a_to_b, nullptr);
  ASSERT_NE(b_to_a, nullptr);
  int a = rte_eth_from_rings("ring_a", &b_to_a, 1, &a_to_b, 1, SOCKET_ID_ANY);
  int b = rte_eth_from_rings("ring_b", &a_to_b, 1, &b_to_a, 1, SOCKET_ID_ANY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  StartPort(a);
  StartPort(b);
  SendBurstAndVerify(a, b, 64, 1514);
  SendBurstAndVerify(b, a, 64, 60);
  rte_eth_stats st{};
  ASSERT_EQ(rte_eth_stats_get(a, &st), 0);
  EXPECT_EQ(st.opackets, 64u);
  EXPECT_EQ(st.ipackets, 64u);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new EalEnvironment);
  return RUN_ALL_TESTS();
}
