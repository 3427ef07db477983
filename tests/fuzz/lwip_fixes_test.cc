// Regression frame tests for lwIP's known remote bugs: each test sends the frames that trip
// the bug through the same input path as the DPDK netif (header check, zero-copy pbufs) and
// checks lwIP's state afterwards. A test that names a patch still in
// third_party/lwip/patches.bzl fails without it (on 2.2.1). The tests of patches 0007-0010,
// which we carried on 2.1.3, now guard upstream's fixes in 2.2.0/2.2.1: they pass on
// unpatched 2.2.1 and failed on unpatched 2.1.3. The others guard fixes 2.1.3 already had.
// Also the frames we drop on purpose (runts, IPv4 options and fragments, IPv6 fragments):
// dropped and counted. Runs under ASan + UBSan in tools/test too.
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "lwip/icmp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ieee.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/nd6.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "tests/fuzz/frame_harness.h"

namespace grpc_bypass::fuzz {
namespace {

// lwIP's TCP flags as the frames carry them.
constexpr uint8_t kAck = TCP_ACK, kSyn = TCP_SYN, kPsh = TCP_PSH;
constexpr uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x02};
constexpr uint8_t kPeerMac[6] = {0x02, 0, 0, 0, 0, 0x01};

uint16_t Get16(const std::vector<uint8_t>& f, size_t at) {
  return static_cast<uint16_t>(f[at] << 8 | f[at + 1]);
}
uint32_t Get32(const std::vector<uint8_t>& f, size_t at) {
  return uint32_t{Get16(f, at)} << 16 | Get16(f, at + 2);
}

std::vector<uint8_t> Payload(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

constexpr uint8_t kPeer6[16] = {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr uint8_t kOur6[16] = {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// An IPv6 frame from the peer's MAC to `dst_mac`, lengths and checksum fixed up.
std::vector<uint8_t> Ipv6Frame(const uint8_t* src, const uint8_t* dst, uint8_t next_header,
                               uint8_t hop_limit, const std::vector<uint8_t>& payload,
                               const uint8_t* dst_mac = kOurMac) {
  std::vector<uint8_t> f(14 + 40, 0);
  std::memcpy(f.data(), dst_mac, 6);
  std::memcpy(f.data() + 6, kPeerMac, 6);
  f[12] = ETHTYPE_IPV6 >> 8;
  f[13] = ETHTYPE_IPV6 & 0xff;
  f[14] = 0x60;
  f[14 + 6] = next_header;
  f[14 + 7] = hop_limit;
  std::memcpy(f.data() + 14 + 8, src, 16);
  std::memcpy(f.data() + 14 + 24, dst, 16);
  f.insert(f.end(), payload.begin(), payload.end());
  FixUpFrame(f);
  return f;
}

void Send(const PeerView& c, uint32_t seq, uint32_t ack, uint8_t flags, size_t n = 0) {
  const std::vector<uint8_t> data = Payload(n, 'x');
  InputFrame(PeerTcpFrame(c.port, seq, ack, flags, data.data(), n));
}

// The TCP flags of the IPv4 TCP frames we sent (others skipped).
std::vector<uint8_t> SentTcpFlags(const std::vector<std::vector<uint8_t>>& frames) {
  std::vector<uint8_t> out;
  for (const auto& f : frames) {
    if (f.size() >= 54 && Get16(f, 12) == ETHTYPE_IP && f[23] == IP_PROTO_TCP) {
      out.push_back(f[14 + 20 + 13]);
    }
  }
  return out;
}

// Right edge of the out-of-sequence queue (sequence number after its last segment).
uint32_t OoseqRightEdge(const tcp_pcb* pcb) {
  uint32_t edge = 0;
  for (const tcp_seg* s = pcb->ooseq; s != nullptr; s = s->next) {
    edge = s->tcphdr->seqno + TCP_TCPLEN(s);  // tcp_input made it host order
  }
  return edge;
}

// lwIP bug #56397: a SYN inside the window of an established connection that has
// out-of-order data queued. Queued as data with its extra sequence number, it tripped the trim
// assertion at the window's right edge (abort). lwIP (2.1.3 on) drops such a SYN and answers with
// an ACK (RFC 5961's challenge ACK); this keeps it so.
TEST(LwipFixes, SynInEstablishedWithOutOfOrderDataQueuedIsAnsweredWithAnAckAndDropped) {
  const PeerView c = NewConnection();
  ASSERT_NE(c.pcb, nullptr);
  const uint32_t wnd = c.pcb->rcv_wnd;
  ASSERT_GT(wnd, 2000u);
  Send(c, c.seq + 1000, c.ack, kAck, 100);  // out of order: a hole of 1000 bytes
  ASSERT_NE(c.pcb->ooseq, nullptr);
  TakeSentFrames();
  Send(c, c.seq + wnd - 10, c.ack, kSyn | kAck, 100);  // a SYN at the right edge
  Send(c, c.seq + 1200, c.ack, kSyn | kAck, 100);     // and one in the middle
  ASSERT_TRUE(ConnectionAlive(c.pcb));
  const std::vector<std::vector<uint8_t>> sent = TakeSentFrames();
  ASSERT_EQ(SentTcpFlags(sent).size(), 2u);
  for (const auto& f : sent) EXPECT_EQ(Get32(f, 14 + 20 + 8), c.seq);  // ACK of rcv_nxt
  for (const tcp_seg* s = c.pcb->ooseq; s != nullptr; s = s->next) {
    EXPECT_EQ(TCPH_FLAGS(s->tcphdr) & TCP_SYN, 0) << "a SYN was queued as data";
  }
  EXPECT_EQ(OoseqRightEdge(c.pcb), c.seq + 1100);
  // Filling the hole delivers exactly the data, and the window accounting stays sane.
  Send(c, c.seq, c.ack, kAck | kPsh, 1000);
  EXPECT_EQ(c.pcb->rcv_nxt, c.seq + 1100);
  EXPECT_EQ(c.pcb->ooseq, nullptr);
  EXPECT_LE(c.pcb->rcv_wnd, wnd);
  EXPECT_EQ(c.pcb->state, ESTABLISHED);
}

tcp_pcb* FindActive(uint16_t remote_port) {
  for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) {
    if (p->remote_port == remote_port) return p;
  }
  return nullptr;
}

// Patch 0007 until 2.1.3, upstream since lwIP 2.2.0 (adbc5b5f, bug #56397): in SYN_RCVD a SYN+ACK carrying data established the
// connection and then took the SYN for a data byte: "hello" arrived as "ello" with rcv_nxt one
// ahead of the data. Now a SYN there only repeats our SYN-ACK; the real ACK establishes.
TEST(LwipFixes, SynAckWithDataInSynRcvdDoesNotEstablishOrShiftTheStream) {
  NewConnection();
  const uint16_t port = 39100;
  const uint32_t isn = 5000;
  InputFrame(PeerTcpFrame(port, isn, 0, kSyn));
  const std::vector<std::vector<uint8_t>> synack = TakeSentFrames();
  ASSERT_EQ(SentTcpFlags(synack), std::vector<uint8_t>{kSyn | kAck});
  const uint32_t our_isn = Get32(synack[0], 14 + 20 + 4);
  tcp_pcb* pcb = FindActive(port);
  ASSERT_NE(pcb, nullptr);
  ASSERT_EQ(pcb->state, SYN_RCVD);
  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  InputFrame(PeerTcpFrame(port, isn, our_isn + 1, kSyn | kAck | kPsh, hello, 5));
  EXPECT_EQ(pcb->state, SYN_RCVD);
  EXPECT_EQ(pcb->rcv_nxt, isn + 1);
  EXPECT_EQ(SentTcpFlags(TakeSentFrames()), std::vector<uint8_t>{kSyn | kAck});  // repeated
  InputFrame(PeerTcpFrame(port, isn + 1, our_isn + 1, kAck | kPsh, hello, 5));
  EXPECT_EQ(pcb->state, ESTABLISHED);
  EXPECT_EQ(pcb->rcv_nxt, isn + 1 + 5);
  tcp_abort(pcb);
}

// A retransmitted SYN in SYN_RCVD (the one SYN lwIP must still answer there) gets our
// SYN-ACK again.
TEST(LwipFixes, RetransmittedSynInSynRcvdIsAnsweredAgain) {
  NewConnection();
  const uint16_t port = 39000;
  const uint32_t isn = 777;
  InputFrame(PeerTcpFrame(port, isn, 0, kSyn));
  EXPECT_EQ(SentTcpFlags(TakeSentFrames()), std::vector<uint8_t>{kSyn | kAck});
  InputFrame(PeerTcpFrame(port, isn, 0, kSyn));
  EXPECT_EQ(SentTcpFlags(TakeSentFrames()), std::vector<uint8_t>{kSyn | kAck});
  tcp_pcb* pcb = FindActive(port);
  ASSERT_NE(pcb, nullptr);
  EXPECT_EQ(pcb->state, SYN_RCVD);
  tcp_abort(pcb);
}

// Patch 0008 until 2.1.3, upstream since lwIP 2.2.1 (574bd6e5, patch #10106): the last out-of-order segment was trimmed to the
// window; a larger copy with the same sequence number replaced it untrimmed, so the queue
// reached past the window (and "ooseq tcplen > rcv_wnd" aborted once the hole was filled).
TEST(LwipFixes, LargerCopyOfTheTrimmedLastOutOfOrderSegmentCannotOverrunTheWindow) {
  const PeerView c = NewConnection();
  ASSERT_NE(c.pcb, nullptr);
  const uint32_t wnd = c.pcb->rcv_wnd;
  Send(c, c.seq + 1, c.ack, kAck, 100);          // first on the queue, after a 1-byte hole
  Send(c, c.seq + wnd - 50, c.ack, kAck, 1000);  // last, trimmed to the 50 bytes that fit
  EXPECT_EQ(OoseqRightEdge(c.pcb), c.seq + wnd);
  Send(c, c.seq + wnd - 50, c.ack, kAck, 1000);  // the same segment again, untrimmed
  EXPECT_EQ(OoseqRightEdge(c.pcb), c.seq + wnd) << "the queue overran the window";
  Send(c, c.seq, c.ack, kAck, 1);  // fill the hole: the first queued segment follows
  ASSERT_TRUE(ConnectionAlive(c.pcb));
  EXPECT_EQ(c.pcb->rcv_nxt, c.seq + 101);
  EXPECT_LE(c.pcb->rcv_wnd, wnd);
}

// Patch 0009 until 2.1.3, upstream since lwIP 2.2.0 (003d34ee, bug #51447): the comparisons no longer go through a signed
// conversion, and "a > b" is exactly "b < a" also for numbers 2^31 apart.
TEST(LwipFixes, SequenceComparisonsAreConsistentHalfTheSpaceApart) {
  const uint32_t bases[] = {0u, 1u, 0x7fffffffu, 0x80000000u, 0xfffffff0u, 123456789u};
  const uint32_t distances[] = {0u, 1u, 1000u, 0x7fffffffu, 0x80000000u, 0x80000001u,
                                0xffffffffu};
  for (uint32_t a : bases) {
    for (uint32_t d : distances) {
      const uint32_t b = a + d;
      EXPECT_EQ(TCP_SEQ_GT(a, b), TCP_SEQ_LT(b, a)) << a << " " << b;
      EXPECT_EQ(TCP_SEQ_GEQ(a, b), TCP_SEQ_LEQ(b, a)) << a << " " << b;
      EXPECT_EQ(TCP_SEQ_LEQ(a, b), !TCP_SEQ_GT(a, b)) << a << " " << b;
      if (d != 0 && d < 0x80000000u) {
        EXPECT_TRUE(TCP_SEQ_LT(a, b));
        EXPECT_TRUE(TCP_SEQ_BETWEEN(b - 1, a, b));
      }
    }
  }
}

// ...and on the wire: with data in flight and two duplicate ACKs counted, an ACK 2^31 ahead
// acknowledges nothing we sent. Unpatched lwIP 2.1.3 took it for "not newer than the last ACK" and reset
// the duplicate count without a word; now it is an ACK for unsent data, answered by an ACK.
TEST(LwipFixes, AckHalfTheSpaceAheadIsAnAckForUnsentData) {
  const PeerView c = NewConnection();
  ASSERT_NE(c.pcb, nullptr);
  const std::vector<uint8_t> data = Payload(100, 'y');
  ASSERT_EQ(tcp_write(c.pcb, data.data(), 100, TCP_WRITE_FLAG_COPY), ERR_OK);
  ASSERT_EQ(tcp_output(c.pcb), ERR_OK);
  ASSERT_EQ(c.pcb->lastack, c.ack);
  ASSERT_EQ(c.pcb->snd_nxt, c.ack + 100);
  Send(c, c.seq, c.ack, kAck);
  Send(c, c.seq, c.ack, kAck);
  ASSERT_EQ(c.pcb->dupacks, 2);
  TakeSentFrames();
  Send(c, c.seq, c.ack + 0x80000000u, kAck);
  EXPECT_EQ(c.pcb->dupacks, 2);
  EXPECT_EQ(c.pcb->lastack, c.ack);
  const std::vector<std::vector<uint8_t>> sent = TakeSentFrames();
  ASSERT_EQ(sent.size(), 1u) << "no ACK for an ACK of unsent data";
  EXPECT_EQ(Get32(sent[0], 14 + 20 + 8), c.seq);
  ASSERT_TRUE(ConnectionAlive(c.pcb));
}

// An IPv4 packet with an unknown protocol (UDP: not built in) is answered with "protocol
// unreachable", quoting its header and 8 bytes. Arriving as a pbuf chain split inside those
// bytes, unpatched lwIP 2.1.3 memcpy'd them from the first pbuf only (past its end: our patch
// 0010 until 2.1.3; upstream since 2.2.0, 35550eea, bug #59364).
TEST(LwipFixes, ProtocolUnreachableQuotesAChainedPacketCorrectly) {
  NewConnection();
  std::vector<uint8_t> f(14 + 20 + 8 + 32, 0);
  std::memcpy(f.data(), kOurMac, 6);
  std::memcpy(f.data() + 6, kPeerMac, 6);
  f[12] = ETHTYPE_IP >> 8;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[8] = 64;
  ip[9] = IP_PROTO_UDP;
  const uint8_t peer[4] = {198, 18, 0, 1}, ours[4] = {198, 18, 0, 2};
  std::memcpy(ip + 12, peer, 4);
  std::memcpy(ip + 16, ours, 4);
  for (size_t i = 0; i < 8 + 32; ++i) ip[20 + i] = static_cast<uint8_t>(0xa0 + i);
  FixUpFrame(f);
  const uint32_t xmit_before = lwip_stats.icmp.xmit;
  InputFrame(f, /*split=*/14 + 20 + 3);
  const std::vector<std::vector<uint8_t>> sent = TakeSentFrames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(lwip_stats.icmp.xmit, xmit_before + 1);
  const std::vector<uint8_t>& r = sent[0];
  ASSERT_GE(r.size(), 14u + 20 + 8 + 28);
  EXPECT_EQ(r[14 + 9], IP_PROTO_ICMP);
  EXPECT_EQ(r[14 + 20], ICMP_DUR);
  EXPECT_EQ(r[14 + 20 + 1], ICMP_DUR_PROTO);
  EXPECT_EQ(std::memcmp(r.data() + 14 + 20 + 8, ip, 28), 0) << "the quote is not the packet";
}

// The same over IPv6: "unrecognized next header", quoting the chained packet (lwIP bug
// #58553, fixed in Debian's 2.1.3).
TEST(LwipFixes, ParameterProblemQuotesAChainedIpv6Packet) {
  NewConnection();
  std::vector<uint8_t> udp(200);
  for (size_t i = 0; i < udp.size(); ++i) udp[i] = static_cast<uint8_t>(i);
  const std::vector<uint8_t> f = Ipv6Frame(kPeer6, kOur6, IP6_NEXTH_UDP, 64, udp);  // not built in
  const uint8_t* ip = f.data() + 14;
  InputFrame(f, /*split=*/14 + 40 + 10);
  // The reply waits for neighbour discovery of the peer: answer lwIP's solicitation.
  const std::vector<uint8_t> na = {ICMP6_TYPE_NA, 0, 0, 0, 0x60, 0, 0, 0,  // solicited, override
                                   0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                   ND6_OPTION_TYPE_TARGET_LLADDR, 1, 0x02, 0, 0, 0, 0, 0x01};
  InputFrame(Ipv6Frame(kPeer6, kOur6, IP6_NEXTH_ICMP6, 255, na));
  int quoted = 0;
  for (const auto& r : TakeSentFrames()) {
    if (r.size() >= 14 + 40 + 8 + 240 && Get16(r, 12) == ETHTYPE_IPV6 && r[14 + 6] == IP6_NEXTH_ICMP6 &&
        r[14 + 40] == ICMP6_TYPE_PP) {
      EXPECT_EQ(r[14 + 40 + 1], 1);  // unrecognized next header
      EXPECT_EQ(std::memcmp(r.data() + 14 + 40 + 8, ip, 240), 0) << "the quote is not the packet";
      ++quoted;
    }
  }
  EXPECT_EQ(quoted, 1);
}

// Frames we drop on purpose, each counted: shorter than their headers (before lwIP), IPv4
// options and fragments, IPv6 fragments (no reassembly is built: TCP never needs it).
TEST(LwipFixes, RuntsOptionsAndFragmentsAreDroppedAndCounted) {
  const PeerView c = NewConnection();
  ASSERT_NE(c.pcb, nullptr);
  TakeSentFrames();

  const uint64_t runts = GetHarnessStats().runts;
  std::vector<uint8_t> runt = PeerTcpFrame(c.port, c.seq, c.ack, kAck);
  runt.resize(14 + 20 + 10);  // TCP header cut short
  InputFrame(runt);
  EXPECT_EQ(GetHarnessStats().runts, runts + 1);

  const uint32_t opterr = lwip_stats.ip.opterr, drop = lwip_stats.ip.drop;
  std::vector<uint8_t> frag = PeerTcpFrame(c.port, c.seq, c.ack, kAck | kPsh,
                                           Payload(10, 'f').data(), 10);
  frag[14 + 6] = 0x20;  // more fragments
  FixUpFrame(frag);
  InputFrame(frag);
  std::vector<uint8_t> opts = PeerTcpFrame(c.port, c.seq, c.ack, kAck | kPsh);
  opts.insert(opts.begin() + 14 + 20, {1, 1, 1, 0});  // 4 bytes of IPv4 options (NOP, EOL)
  opts[14] = 0x46;
  FixUpFrame(opts);
  InputFrame(opts);
  EXPECT_EQ(lwip_stats.ip.opterr, opterr + 2);
  EXPECT_EQ(lwip_stats.ip.drop, drop + 2);
  EXPECT_EQ(c.pcb->rcv_nxt, c.seq) << "data of a dropped fragment was taken";

  const uint32_t opterr6 = lwip_stats.ip6.opterr, drop6 = lwip_stats.ip6.drop;
  std::vector<uint8_t> frag6(8 + 24, 0);  // a fragment header, then 24 bytes (a multiple of 8)
  frag6[0] = IP6_NEXTH_TCP;
  frag6[3] = 1;  // more fragments
  const std::vector<uint8_t> f6 = Ipv6Frame(kPeer6, kOur6, IP6_NEXTH_FRAGMENT, 64, frag6);
  InputFrame(f6);
  EXPECT_EQ(lwip_stats.ip6.opterr, opterr6 + 1);
  EXPECT_EQ(lwip_stats.ip6.drop, drop6 + 1);

  EXPECT_TRUE(SentTcpFlags(TakeSentFrames()).empty());
  EXPECT_TRUE(ConnectionAlive(c.pcb));
}

// Router advertisements may lower our IPv6 MTU but never raise it above the link's (lwIP bug
// #56136, fixed in Debian's 2.1.3 as in 2.2.0), and one that did not come from a neighbour
// (hop limit below 255) or carries an MTU below IPv6's minimum is ignored.
TEST(LwipFixes, RouterAdvertisementsCannotRaiseOrBreakTheIpv6Mtu) {
  NewConnection();
  netif* n = netif_default;
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->mtu6, 1500);
  const uint8_t router[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
  auto ra = [&](uint8_t hop_limit, uint32_t mtu) {
    std::vector<uint8_t> icmp = {ICMP6_TYPE_RA, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
                                 ND6_OPTION_TYPE_MTU, 1, 0, 0, static_cast<uint8_t>(mtu >> 24),
                                 static_cast<uint8_t>(mtu >> 16), static_cast<uint8_t>(mtu >> 8),
                                 static_cast<uint8_t>(mtu)};
    InputFrame(Ipv6Frame(router, all_nodes, IP6_NEXTH_ICMP6, hop_limit, icmp, all_nodes_mac));
  };
  const uint32_t proterr = lwip_stats.nd6.proterr;
  ra(64, 1280);  // forwarded from off the link: not a router advertisement to take
  EXPECT_EQ(lwip_stats.nd6.proterr, proterr + 1);
  EXPECT_EQ(n->mtu6, 1500);
  ra(255, 9000);  // more than the link carries
  EXPECT_EQ(n->mtu6, 1500);
  ra(255, 1000);  // below IPv6's minimum of 1280
  EXPECT_EQ(n->mtu6, 1500);
  ra(255, 1400);  // a real, lower link MTU is taken
  EXPECT_EQ(n->mtu6, 1400);
  n->mtu6 = n->mtu;  // as the link going down and up does (lwIP 2.2.0; 2.1.3 only lowers it)
}

// Patch 0001 (still needed in 2.2.1): etharp_input read a whole ARP header from a frame that
// holds less of one. Our netif's header check drops such runts before lwIP, so this feeds lwIP
// directly, as any other netif would: the frame is dropped and counted (under ASan, without
// the patch, a heap-buffer-overflow in etharp_input).
TEST(LwipFixes, ArpFrameShorterThanItsHeaderIsDroppedAndCounted) {
  NewConnection();
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01,
                            ETHTYPE_ARP >> 8, ETHTYPE_ARP & 0xff,
                            0, 1, 8, 0, 6, 4, 0, 2,              // Ethernet/IPv4, a reply
                            0x02, 0, 0, 0, 0, 0x01, 198, 18, 0};  // cut in the sender's IP
  const uint32_t lenerr = lwip_stats.etharp.lenerr;
  InputFrameUnchecked(f);
  EXPECT_EQ(lwip_stats.etharp.lenerr, lenerr + 1);
}

// Patch 0004 (still needed in 2.2.1; upstream master only, bug #68144): an ICMPv6 Redirect
// whose target link-layer address option has length 0 made nd6_input copy the address from
// past the packet, for a destination in the cache. Such a Redirect is malformed (RFC 4861
// 4.6, 8.1): dropped and counted. The same option in a Neighbor Advertisement is in the
// corpus (regress-nd6-na-lladdr-length-zero).
TEST(LwipFixes, RedirectWithAZeroLengthLinkLayerOptionIsDroppedAndCounted) {
  NewConnection();
  // An echo request from the peer puts it in the destination cache (our reply goes to it).
  const std::vector<uint8_t> echo = {ICMP6_TYPE_EREQ, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'};
  InputFrame(Ipv6Frame(kPeer6, kOur6, IP6_NEXTH_ICMP6, 64, echo));
  TakeSentFrames();
  const uint8_t router[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::vector<uint8_t> rd = {ICMP6_TYPE_RD, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t target[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
  rd.insert(rd.end(), target, target + 16);
  rd.insert(rd.end(), kPeer6, kPeer6 + 16);             // the destination: in the cache
  rd.insert(rd.end(), {ND6_OPTION_TYPE_TARGET_LLADDR, 0});  // length 0, at the packet's end
  const uint32_t lenerr = lwip_stats.nd6.lenerr;
  InputFrame(Ipv6Frame(router, kOur6, IP6_NEXTH_ICMP6, 255, rd));
  EXPECT_EQ(lwip_stats.nd6.lenerr, lenerr + 1);
}

}  // namespace
}  // namespace grpc_bypass::fuzz
