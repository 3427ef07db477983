// The whole stack (EAL, port, device, lwIP netif, poll loop) on one end of a net_ring wire;
// the test plays the peer with hand-made frames on the other end.
#include "transport/lwip/stack.h"

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "lwip/etharp.h"
#include "tests/dpdk/ring_pair.h"
#include "transport/dpdk/port.h"

namespace grpc_bypass {
namespace {

constexpr uint32_t kOurIp = 0xc6120002;   // 198.18.0.2
constexpr uint32_t kPeerIp = 0xc6120009;  // 198.18.0.9
const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0xbe, 0xef}};

std::unique_ptr<Stack> g_stack;
std::unique_ptr<dpdk::Port> g_peer;
std::vector<rte_mbuf*> g_first_frames;  // what the stack sent while coming up

class StackRingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(dpdk::StartEal(testing::kTestEal).ok());
    auto [a, b] = testing::MakeRingPair("stk", 4096);
    dpdk::PortConfig pc;
    pc.port_id = b;
    auto peer = dpdk::Port::Open(pc);
    ASSERT_TRUE(peer.ok()) << peer.status();
    g_peer = *std::move(peer);
    StackConfig cfg;
    cfg.eal = testing::kTestEal;
    cfg.ip = {rte_cpu_to_be_32(kOurIp), 24};
    cfg.ports = {a};
    cfg.mtu = 9000;  // net_ring carries any frame size
    auto s = Stack::Start(cfg);
    ASSERT_TRUE(s.ok()) << s.status();
    g_stack = *std::move(s);
    // Everything the stack sends while coming up (gratuitous ARP, IPv6 MLD reports).
    g_first_frames = PeerReceive(1, std::chrono::seconds(3));
    auto more = PeerReceive(1000, std::chrono::milliseconds(500));
    g_first_frames.insert(g_first_frames.end(), more.begin(), more.end());
  }
  static void TearDownTestSuite() {
    for (rte_mbuf* m : g_first_frames) rte_pktmbuf_free(m);
    g_stack.reset();
    g_peer.reset();
  }

  static std::vector<rte_mbuf*> PeerReceive(size_t want, std::chrono::milliseconds wait) {
    std::vector<rte_mbuf*> got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    rte_mbuf* buf[64];
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      uint16_t n = rte_eth_rx_burst(g_peer->id(), 0, buf, 64);
      got.insert(got.end(), buf, buf + n);
      if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return got;
  }

  // Sends an ICMP echo request of `payload` bytes from the peer; returns the frames the
  // stack sends back within a second.
  static std::vector<rte_mbuf*> Ping(uint16_t payload) {
    const uint16_t len = 14 + 20 + 8 + payload;
    std::vector<uint8_t> f(len, 0);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
    eth->src_addr = kPeerMac;
    eth->dst_addr = g_stack->ports()[0]->mac();
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = 0x45;
    ip->total_length = rte_cpu_to_be_16(len - 14);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_ICMP;
    ip->src_addr = rte_cpu_to_be_32(kPeerIp);
    ip->dst_addr = rte_cpu_to_be_32(kOurIp);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    icmp->icmp_ident = rte_cpu_to_be_16(7);
    uint8_t* data = reinterpret_cast<uint8_t*>(icmp + 1);
    for (uint16_t i = 0; i < payload; ++i) data[i] = static_cast<uint8_t>(i % 251);
    icmp->icmp_cksum = ~rte_raw_cksum(icmp, 8 + payload);
    // Chained mbufs of up to 2000 bytes each (as a scattering NIC would deliver a jumbo).
    rte_mbuf* head = nullptr;
    for (uint32_t off = 0; off < len;) {
      rte_mbuf* seg = rte_pktmbuf_alloc(g_peer->pool());
      EXPECT_NE(seg, nullptr);
      const uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(2000, len - off));
      std::memcpy(rte_pktmbuf_append(seg, n), f.data() + off, n);
      if (head == nullptr) {
        head = seg;
      } else {
        EXPECT_EQ(rte_pktmbuf_chain(head, seg), 0);
      }
      off += n;
    }
    EXPECT_EQ(rte_eth_tx_burst(g_peer->id(), 0, &head, 1), 1);
    return PeerReceive(1, std::chrono::seconds(1));
  }
};

TEST_F(StackRingTest, GratuitousArpIsSentWhenTheInterfaceComesUp) {
  ASSERT_FALSE(g_first_frames.empty()) << "nothing sent on link-up";
  bool found = false;
  for (rte_mbuf* m : g_first_frames) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) continue;
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    EXPECT_TRUE(rte_is_broadcast_ether_addr(&eth->dst_addr));
    EXPECT_EQ(arp->arp_data.arp_sip, rte_cpu_to_be_32(kOurIp));
    EXPECT_EQ(arp->arp_data.arp_tip, rte_cpu_to_be_32(kOurIp)) << "gratuitous: target is us";
    EXPECT_TRUE(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &g_stack->ports()[0]->mac()));
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(StackRingTest, SenderMacIsLearnedSoTheReplyNeedsNoArpRequest) {
  std::vector<rte_mbuf*> out = Ping(56);
  ASSERT_GE(out.size(), 1u);  // (an IPv6 MLD report may share the burst)
  auto more = PeerReceive(10, std::chrono::milliseconds(200));
  out.insert(out.end(), more.begin(), more.end());
  int replies = 0;
  for (rte_mbuf* m : out) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    EXPECT_NE(eth->ether_type, rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
        << "the stack asked ARP instead of using the learned MAC";
    if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
      EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &kPeerMac));
      auto* icmp = reinterpret_cast<rte_icmp_hdr*>(rte_pktmbuf_mtod_offset(m, uint8_t*, 34));
      replies += icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY;
    }
    rte_pktmbuf_free(m);
  }
  EXPECT_EQ(replies, 1);
  bool in_table = false;
  g_stack->RunAndWait([&] {
    ip4_addr_t ip;
    ip.addr = rte_cpu_to_be_32(kPeerIp);
    eth_addr* mac = nullptr;
    const ip4_addr_t* ipret = nullptr;
    in_table = etharp_find_addr(g_stack->netif().raw(), &ip, &mac, &ipret) >= 0 &&
               std::memcmp(mac->addr, kPeerMac.addr_bytes, 6) == 0;
  });
  EXPECT_TRUE(in_table);
  EXPECT_GE(g_stack->device().Stats()[0].mac_learned, 1u);
}

TEST_F(StackRingTest, JumboEchoRequestInChainedMbufsGetsAnIntactJumboReply) {
  std::vector<rte_mbuf*> out = Ping(8000);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(rte_pktmbuf_pkt_len(out[0]), 14u + 20 + 8 + 8000);
  std::vector<uint8_t> flat(rte_pktmbuf_pkt_len(out[0]));
  const auto* p = static_cast<const uint8_t*>(
      rte_pktmbuf_read(out[0], 0, static_cast<uint32_t>(flat.size()), flat.data()));
  EXPECT_EQ(p[34], RTE_IP_ICMP_ECHO_REPLY);
  for (int i = 0; i < 8000; ++i) ASSERT_EQ(p[42 + i], i % 251) << i;
  rte_pktmbuf_free(out[0]);
}

TEST_F(StackRingTest, PollLoopStagesCountTheirWork) {
  bool held_token = false;
  ASSERT_TRUE(g_stack->RunAndWait([&] { held_token = g_stack->HoldsToken(); }));
  EXPECT_TRUE(held_token);
  EXPECT_FALSE(g_stack->HoldsToken());
  // A closure from a thread that finds the token busy is queued for its holder, which runs
  // it (a command) before it releases the token.
  absl::Notification posted;
  bool queued_ok = false;
  ASSERT_TRUE(g_stack->RunAndWait([&] {
    std::thread other([&] { queued_ok = g_stack->RunHereOrQueue([&] { posted.Notify(); }); });
    other.join();
    EXPECT_FALSE(posted.HasBeenNotified()) << "ran while this thread held the token";
  }));
  EXPECT_TRUE(queued_ok);
  posted.WaitForNotification();
  // A frame in and its answer out, counted by the rx, input and tx stages (this test's own
  // traffic: the cases run in any order).
  const PollStats before = g_stack->poll_stats();
  std::vector<rte_mbuf*> out = Ping(56);
  EXPECT_GE(out.size(), 1u);
  for (rte_mbuf* m : out) rte_pktmbuf_free(m);
  const PollStats p = g_stack->poll_stats();
  EXPECT_GT(p.iterations, before.iterations);
  EXPECT_GE(p.rx_frames, before.rx_frames + 1);
  EXPECT_GE(p.input_frames, before.input_frames + 1);
  EXPECT_GE(p.tx_frames, before.tx_frames + 1);
  EXPECT_GT(p.timer_runs, 0u);
  EXPECT_GT(p.commands, 0u);
}

TEST_F(StackRingTest, SecondStackInTheProcessIsRefused) {
  StackConfig cfg = g_stack->config();
  auto s = Stack::Start(cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace grpc_bypass
