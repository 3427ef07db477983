// transport/dpdk over net_ring pairs: the device under test on one end, raw DPDK calls on the
// other ("the peer").
#include "transport/dpdk/device.h"

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <rte_lcore.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/dpdk/ring_pair.h"
#include "transport/dpdk/eal.h"
#include "transport/dpdk/port.h"

namespace grpc_bypass::dpdk {
namespace {

const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0xbe, 0xef}};

class DeviceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(StartEal(testing::kTestEal).ok()); }

  // Opens a wire of `ring_size` and both ports; the device side gets `pc` tweaks.
  void Open(unsigned ring_size, PortConfig pc = {}, DeviceConfig dc = {}) {
    static int seq = 0;
    auto [a, b] = testing::MakeRingPair("w" + std::to_string(seq++), ring_size);
    pc.port_id = a;
    auto port = Port::Open(pc);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *std::move(port);
    PortConfig peer_pc;
    peer_pc.port_id = b;
    auto peer = Port::Open(peer_pc);
    ASSERT_TRUE(peer.ok()) << peer.status();
    peer_ = *std::move(peer);
    dc.ports = {port_.get()};
    device_ = std::make_unique<Device>(dc);
  }

  void TearDown() override {
    DrainPeer();
    device_.reset();
  }

  // A frame of `len` bytes: Ethernet to the peer, type IPv4-less "0x88b5" (local experimental)
  // unless `type` says otherwise; payload byte i = (seed + i).
  rte_mbuf* MakeFrame(rte_mempool* pool, uint16_t len, uint8_t seed, uint16_t type = 0x88b5) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    EXPECT_NE(m, nullptr);
    auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
    for (uint16_t i = 0; i < len; ++i) d[i] = static_cast<uint8_t>(seed + i);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(d);
    eth->dst_addr = kPeerMac;
    eth->src_addr = port_->mac();
    eth->ether_type = rte_cpu_to_be_16(type);
    return m;
  }

  std::vector<rte_mbuf*> PeerReceive(size_t want) {
    std::vector<rte_mbuf*> got;
    rte_mbuf* buf[64];
    for (int tries = 0; tries < 100 && got.size() < want; ++tries) {
      uint16_t n = rte_eth_rx_burst(peer_->id(), 0, buf, 64);
      got.insert(got.end(), buf, buf + n);
    }
    return got;
  }

  void DrainPeer() {
    if (!peer_) return;
    for (rte_mbuf* m : PeerReceive(1 << 20)) rte_pktmbuf_free(m);
  }

  uint16_t DeviceReceive(std::vector<rte_mbuf*>* out) {
    rte_mbuf* buf[256];
    uint16_t n = device_->Receive(buf, 256);
    out->assign(buf, buf + n);
    return n;
  }

  std::unique_ptr<Port> port_, peer_;
  std::unique_ptr<Device> device_;
};

TEST_F(DeviceTest, BurstOf64IsSentInOneFlushAndArrivesIntact) {
  Open(1024);
  for (int i = 0; i < 64; ++i) {
    rte_mbuf* m = device_->AllocTx();
    ASSERT_NE(m, nullptr);
    rte_pktmbuf_free(m);
    ASSERT_TRUE(device_->Send(MakeFrame(port_->pool(), 100 + i, i)));
  }
  EXPECT_EQ(device_->FlushTx(), 64u);
  auto got = PeerReceive(64);
  ASSERT_EQ(got.size(), 64u);
  uint64_t bytes = 0;
  for (int i = 0; i < 64; ++i) {
    ASSERT_EQ(rte_pktmbuf_pkt_len(got[i]), 100u + i);
    const uint8_t* d = rte_pktmbuf_mtod(got[i], const uint8_t*);
    for (int j = 14; j < 100 + i; ++j) ASSERT_EQ(d[j], static_cast<uint8_t>(i + j));
    bytes += 100 + i;
    rte_pktmbuf_free(got[i]);
  }
  PortQueueStats st = device_->Stats()[0];
  EXPECT_EQ(st.tx_packets, 64u);
  EXPECT_EQ(st.tx_bytes, bytes);
  EXPECT_EQ(st.tx_drops, 0u);
}

TEST_F(DeviceTest, BurstFromThePeerIsReceivedAndCounted) {
  Open(1024);
  std::vector<rte_mbuf*> out;
  for (int i = 0; i < 64; ++i) out.push_back(MakeFrame(peer_->pool(), 60, i));
  ASSERT_EQ(rte_eth_tx_burst(peer_->id(), 0, out.data(), 64), 64);
  std::vector<rte_mbuf*> in;
  ASSERT_EQ(DeviceReceive(&in), 64);
  for (rte_mbuf* m : in) {
    EXPECT_EQ(m->port, 0);  // index of the arrival port in the device's list
    rte_pktmbuf_free(m);
  }
  EXPECT_EQ(device_->Stats()[0].rx_packets, 64u);
  EXPECT_EQ(device_->Stats()[0].rx_bytes, 64u * 60);
}

TEST_F(DeviceTest, FramesTxBurstDidNotTakeAreKeptAndSentLaterInOrder) {
  Open(64);  // the wire holds 63 frames until the peer reads
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(device_->Send(MakeFrame(port_->pool(), 64, i)));
  EXPECT_EQ(device_->FlushTx(), 63u);
  EXPECT_EQ(device_->TxBacklog(), 137u);
  EXPECT_GT(device_->Stats()[0].tx_retries, 0u);
  std::vector<rte_mbuf*> all;
  for (int round = 0; round < 10 && all.size() < 200; ++round) {
    auto got = PeerReceive(63);
    all.insert(all.end(), got.begin(), got.end());
    device_->FlushTx();
  }
  ASSERT_EQ(all.size(), 200u) << "no frame may be lost";
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(rte_pktmbuf_mtod(all[i], uint8_t*)[20], static_cast<uint8_t>(i + 20)) << i;
    rte_pktmbuf_free(all[i]);
  }
  EXPECT_EQ(device_->TxBacklog(), 0u);
  EXPECT_EQ(device_->Stats()[0].tx_drops, 0u);
  EXPECT_EQ(device_->Stats()[0].tx_packets, 200u);
}

TEST_F(DeviceTest, BacklogBeyondItsLimitDropsWithACounterAndLeaksNothing) {
  DeviceConfig dc;
  dc.tx_backlog_limit = 100;
  Open(64, {}, dc);
  const uint32_t base = port_->MbufsInUse();
  int accepted = 0;
  for (int i = 0; i < 300; ++i) accepted += device_->Send(MakeFrame(port_->pool(), 64, i));
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(device_->Stats()[0].tx_drops, 200u);
  EXPECT_EQ(device_->FlushTx(), 63u);
  DrainPeer();
  device_->FlushTx();
  DrainPeer();
  EXPECT_EQ(device_->TxBacklog(), 0u);
  EXPECT_EQ(port_->MbufsInUse(), base);
}

TEST_F(DeviceTest, ExhaustedMempoolIsBackPressureNotAbort) {
  PortConfig pc;
  pc.rx_desc = 32;
  pc.tx_desc = 32;
  pc.mbufs_in_flight = 64;
  Open(1024, pc);
  std::vector<rte_mbuf*> held;
  for (rte_mbuf* m; (m = device_->AllocTx()) != nullptr;) held.push_back(m);
  EXPECT_GE(held.size(), 64u);
  EXPECT_LE(held.size(), port_->pool_size());
  EXPECT_EQ(device_->Stats()[0].tx_nombuf, 1u);
  EXPECT_EQ(device_->AllocTx(), nullptr);
  EXPECT_EQ(device_->Stats()[0].tx_nombuf, 2u);
  for (rte_mbuf* m : held) rte_pktmbuf_free(m);
  rte_mbuf* m = device_->AllocTx();
  EXPECT_NE(m, nullptr) << "recovers once mbufs come back";
  rte_pktmbuf_free(m);
}

TEST_F(DeviceTest, VlanIsInsertedOnTxAndStrippedAndFilteredOnRx) {
  PortConfig pc;
  pc.vlan = 100;
  DeviceConfig dc;
  dc.vlan = 100;
  Open(1024, pc, dc);
  // TX: net_ring has no VLAN offload, so the tag is inserted in software.
  ASSERT_TRUE(device_->Send(MakeFrame(port_->pool(), 80, 7, RTE_ETHER_TYPE_IPV4)));
  device_->FlushTx();
  auto got = PeerReceive(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(rte_pktmbuf_pkt_len(got[0]), 84u);
  auto* eth = rte_pktmbuf_mtod(got[0], rte_ether_hdr*);
  EXPECT_EQ(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_VLAN);
  auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
  EXPECT_EQ(rte_be_to_cpu_16(vh->vlan_tci) & 0xfff, 100);
  EXPECT_EQ(rte_be_to_cpu_16(vh->eth_proto), RTE_ETHER_TYPE_IPV4);
  rte_pktmbuf_free(got[0]);

  // RX: our VLAN is stripped; another VLAN and untagged frames are dropped and counted.
  auto tagged = [&](uint16_t vid) {
    rte_mbuf* m = MakeFrame(peer_->pool(), 80, 9, RTE_ETHER_TYPE_IPV4);
    m->ol_flags |= RTE_MBUF_F_TX_VLAN;
    m->vlan_tci = vid;
    EXPECT_EQ(rte_vlan_insert(&m), 0);
    return m;
  };
  rte_mbuf* frames[3] = {tagged(100), tagged(200), MakeFrame(peer_->pool(), 80, 9)};
  ASSERT_EQ(rte_eth_tx_burst(peer_->id(), 0, frames, 3), 3);
  std::vector<rte_mbuf*> in;
  ASSERT_EQ(DeviceReceive(&in), 1);
  EXPECT_EQ(rte_pktmbuf_pkt_len(in[0]), 80u);
  EXPECT_EQ(rte_be_to_cpu_16(rte_pktmbuf_mtod(in[0], rte_ether_hdr*)->ether_type),
            RTE_ETHER_TYPE_IPV4);
  rte_pktmbuf_free(in[0]);
  EXPECT_EQ(device_->Stats()[0].rx_vlan_drops, 2u);
}

// An IPv4 frame from `mac` / `ip` (host order) as the peer would send it.
rte_mbuf* Ipv4From(rte_mempool* pool, const rte_ether_addr& mac, const rte_ether_addr& dst,
                   uint32_t ip) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, 14 + 20 + 8));
  std::memset(eth, 0, 42);
  eth->src_addr = mac;
  eth->dst_addr = dst;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  auto* ip4 = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip4->version_ihl = 0x45;
  ip4->total_length = rte_cpu_to_be_16(28);
  ip4->time_to_live = 64;
  ip4->next_proto_id = 253;  // experimental
  ip4->src_addr = rte_cpu_to_be_32(ip);
  ip4->dst_addr = rte_cpu_to_be_32(0xc6120002);
  ip4->hdr_checksum = rte_ipv4_cksum(ip4);
  return m;
}

TEST_F(DeviceTest, MacLearningReportsEachIpv4SenderOnceThenAgainAfterTheInterval) {
  DeviceConfig dc;
  dc.relearn_seconds = 0.2;
  Open(1024, {}, dc);
  auto send = [&](const rte_ether_addr& mac, uint32_t ip) {
    rte_mbuf* m = Ipv4From(peer_->pool(), mac, port_->mac(), ip);
    ASSERT_EQ(rte_eth_tx_burst(peer_->id(), 0, &m, 1), 1);
    std::vector<rte_mbuf*> in;
    ASSERT_EQ(DeviceReceive(&in), 1);
    rte_pktmbuf_free(in[0]);
  };
  send(kPeerMac, 0xc6120009);
  auto l = device_->TakeLearnedNeighbors();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_TRUE(rte_is_same_ether_addr(&l[0].mac, &kPeerMac));
  EXPECT_EQ(l[0].ipv4_be, rte_cpu_to_be_32(0xc6120009));
  send(kPeerMac, 0xc6120009);
  EXPECT_TRUE(device_->TakeLearnedNeighbors().empty()) << "not again within the interval";
  const rte_ether_addr moved = {{0x02, 0, 0, 0, 0xca, 0xfe}};
  send(moved, 0xc6120009);
  l = device_->TakeLearnedNeighbors();
  ASSERT_EQ(l.size(), 1u) << "a new MAC for the same IP is reported at once";
  EXPECT_TRUE(rte_is_same_ether_addr(&l[0].mac, &moved));
  usleep(250000);
  send(moved, 0xc6120009);
  EXPECT_EQ(device_->TakeLearnedNeighbors().size(), 1u) << "refreshed after the interval";
  EXPECT_EQ(device_->Stats()[0].mac_learned, 3u);
}

TEST_F(DeviceTest, InjectedFrameIsReceivedAsIfFromTheWire) {
  Open(1024);
  std::vector<uint8_t> frame(60);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 3);
  frame[12] = 0x88;
  frame[13] = 0xb5;
  device_->InjectFrame(frame);
  std::vector<rte_mbuf*> in;
  ASSERT_EQ(DeviceReceive(&in), 1);
  ASSERT_EQ(rte_pktmbuf_pkt_len(in[0]), 60u);
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(in[0], void*), frame.data(), 60), 0);
  rte_pktmbuf_free(in[0]);
  EXPECT_EQ(device_->Stats()[0].injected, 1u);
}

TEST_F(DeviceTest, JumboFrameInChainedMbufsCrossesTheWireIntact) {
  PortConfig pc;
  pc.mtu = 9000;  // net_ring takes any frame size
  Open(1024, pc);
  // 9014 bytes in 2000-byte segments.
  rte_mbuf* head = nullptr;
  uint32_t off = 0;
  while (off < 9014) {
    rte_mbuf* seg = rte_pktmbuf_alloc(port_->pool());
    ASSERT_NE(seg, nullptr);
    const uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(2000, 9014 - off));
    auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(seg, n));
    for (uint16_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>((off + i) % 251);
    if (head == nullptr) {
      head = seg;
    } else {
      ASSERT_EQ(rte_pktmbuf_chain(head, seg), 0);
    }
    off += n;
  }
  ASSERT_TRUE(device_->Send(head));
  device_->FlushTx();
  auto got = PeerReceive(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(rte_pktmbuf_pkt_len(got[0]), 9014u);
  std::vector<uint8_t> flat(9014);
  const auto* p = static_cast<const uint8_t*>(rte_pktmbuf_read(got[0], 0, 9014, flat.data()));
  for (uint32_t i = 14; i < 9014; ++i) ASSERT_EQ(p[i], i % 251) << i;
  rte_pktmbuf_free(got[0]);
}

TEST_F(DeviceTest, EachPollContextOwnsItsOwnQueueOfThePort) {
  auto [a, b] = testing::MakeRingPair("rss", 1024, 2);
  PortConfig pc;
  pc.port_id = a;
  pc.rx_queues = 2;
  pc.tx_queues = 2;
  auto port = Port::Open(pc);
  ASSERT_TRUE(port.ok()) << port.status();
  PortConfig ppc = pc;
  ppc.port_id = b;
  auto peer = Port::Open(ppc);
  ASSERT_TRUE(peer.ok()) << peer.status();
  // net_ring has no RSS hash functions: RSS is asked for and reported as not available.
  EXPECT_EQ((*port)->offloads().rss_hf, 0u);
  DeviceConfig d0, d1;
  d0.ports = d1.ports = {port->get()};
  d0.queue = 0;
  d1.queue = 1;
  Device q0(d0), q1(d1);
  // The peer sends 3 frames on queue 0 and 5 on queue 1; each context sees only its own.
  port_ = std::move(*port);
  for (uint16_t q : {0, 1}) {
    std::vector<rte_mbuf*> out;
    for (int i = 0; i < 3 + 2 * q; ++i) out.push_back(MakeFrame((*peer)->pool(), 60, q));
    ASSERT_EQ(rte_eth_tx_burst((*peer)->id(), q, out.data(), out.size()), out.size());
  }
  rte_mbuf* buf[64];
  uint16_t n0 = q0.Receive(buf, 64);
  for (uint16_t i = 0; i < n0; ++i) rte_pktmbuf_free(buf[i]);
  uint16_t n1 = q1.Receive(buf, 64);
  for (uint16_t i = 0; i < n1; ++i) rte_pktmbuf_free(buf[i]);
  EXPECT_EQ(n0, 3);
  EXPECT_EQ(n1, 5);
  // And each sends on its own TX queue.
  ASSERT_TRUE(q1.Send(MakeFrame(port_->pool(), 60, 1)));
  q1.FlushTx();
  EXPECT_EQ(rte_eth_rx_burst((*peer)->id(), 0, buf, 64), 0);
  ASSERT_EQ(rte_eth_rx_burst((*peer)->id(), 1, buf, 64), 1);
  rte_pktmbuf_free(buf[0]);
}

TEST_F(DeviceTest, MultiPortContextAnswersEachPeerOnThePortItArrivedOn) {
  auto [a1, b1] = testing::MakeRingPair("bond1", 1024);
  auto [a2, b2] = testing::MakeRingPair("bond2", 1024);
  std::vector<std::unique_ptr<Port>> ports;
  for (uint16_t id : {a1, a2, b1, b2}) {
    PortConfig pc;
    pc.port_id = id;
    auto p = Port::Open(pc);
    ASSERT_TRUE(p.ok()) << p.status();
    ports.push_back(*std::move(p));
  }
  port_ = std::move(ports[0]);
  DeviceConfig dc;
  dc.ports = {port_.get(), ports[1].get()};
  Device bond(dc);
  // Peer X talks through link 2 only; peer Y through link 1 only.
  const rte_ether_addr x = {{0x02, 0, 0, 0, 0, 0x0a}}, y = {{0x02, 0, 0, 0, 0, 0x0b}};
  rte_mbuf* fx = Ipv4From(ports[3]->pool(), x, port_->mac(), 0xc6120011);
  rte_mbuf* fy = Ipv4From(ports[2]->pool(), y, port_->mac(), 0xc6120012);
  ASSERT_EQ(rte_eth_tx_burst(ports[3]->id(), 0, &fx, 1), 1);
  ASSERT_EQ(rte_eth_tx_burst(ports[2]->id(), 0, &fy, 1), 1);
  rte_mbuf* buf[8];
  ASSERT_EQ(bond.Receive(buf, 8), 2) << "frames from both links are received";
  for (int i = 0; i < 2; ++i) rte_pktmbuf_free(buf[i]);
  auto reply_to = [&](const rte_ether_addr& dst) {
    rte_mbuf* m = MakeFrame(port_->pool(), 60, 1);
    rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr = dst;
    ASSERT_TRUE(bond.Send(m));
  };
  reply_to(x);
  reply_to(y);
  bond.FlushTx();
  int link_x = -1, link_y = -1, frames = 0;
  for (int i : {2, 3}) {
    uint16_t n = rte_eth_rx_burst(ports[i]->id(), 0, buf, 8);
    for (uint16_t j = 0; j < n; ++j, ++frames) {
      const rte_ether_addr& d = rte_pktmbuf_mtod(buf[j], rte_ether_hdr*)->dst_addr;
      if (rte_is_same_ether_addr(&d, &x)) link_x = i;
      if (rte_is_same_ether_addr(&d, &y)) link_y = i;
      rte_pktmbuf_free(buf[j]);
    }
  }
  EXPECT_EQ(frames, 2);
  EXPECT_EQ(link_x, 3) << "the reply to X leaves on link 2, where X's frame arrived";
  EXPECT_EQ(link_y, 2) << "the reply to Y leaves on link 1";
}

TEST_F(DeviceTest, UnknownPortIsAClearError) {
  PortConfig pc;
  pc.port_id = 31;
  auto port = Port::Open(pc);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(port.status().message().find("DPDK port 31 does not exist"), std::string::npos)
      << port.status();
}

TEST_F(DeviceTest, ThreadsGetAnLcoreIdAndAMempoolCacheAndGiveTheIdBackAtExit) {
  // 300 threads one after another (more than RTE_MAX_LCORE): each gets an id, so ids come back.
  const uint64_t without0 = ThreadsWithoutLcore();
  for (int i = 0; i < 300; ++i) {
    unsigned id = LCORE_ID_ANY;
    bool cached = false;
    std::thread([&] {
      EXPECT_EQ(rte_lcore_id(), LCORE_ID_ANY);  // a plain thread has none
      ASSERT_TRUE(RegisterThread());
      ASSERT_TRUE(RegisterThread());  // idempotent
      id = rte_lcore_id();
      rte_mempool* pool = rte_pktmbuf_pool_create(("lc" + std::to_string(i)).c_str(), 512, 64,
                                                  0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
      ASSERT_NE(pool, nullptr);
      cached = rte_mempool_default_cache(pool, id) != nullptr;
      rte_pktmbuf_free(rte_pktmbuf_alloc(pool));
      rte_mempool_free(pool);
    }).join();
    ASSERT_NE(id, LCORE_ID_ANY) << "thread " << i;
    ASSERT_TRUE(cached) << "thread " << i;
  }
  EXPECT_EQ(ThreadsWithoutLcore(), without0);
  // The EAL thread keeps its own id.
  const unsigned main_id = rte_lcore_id();
  EXPECT_TRUE(RegisterThread());
  EXPECT_EQ(rte_lcore_id(), main_id);
}

// `n` threads that each run `body` and then stay alive (holding what they took: an lcore id,
// a mempool cache) until Release(); the destructor releases and joins them.
class HeldThreads {
 public:
  HeldThreads(int n, absl::AnyInvocable<void()> body) : n_(n), body_(std::move(body)) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        body_();
        absl::MutexLock lock(&mu_);
        ++arrived_;
        mu_.Await(absl::Condition(&released_));
      });
    }
  }
  ~HeldThreads() { Release(); }
  void WaitAllArrived() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &HeldThreads::AllArrivedLocked));
  }
  void Release() {
    {
      absl::MutexLock lock(&mu_);
      released_ = true;
    }
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  bool AllArrivedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return arrived_ == n_; }
  const int n_;
  absl::AnyInvocable<void()> body_;  // run by every thread at once: must be thread-safe
  absl::Mutex mu_;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

TEST_F(DeviceTest, ThreadsBeyondTheCacheLimitWorkWithoutACacheAndAreCounted) {
  const uint64_t without0 = ThreadsWithoutLcore();
  constexpr int kThreads = kMaxCachedThreads + 4;
  std::atomic<int> registered{0};
  HeldThreads threads(kThreads, [&] { registered += RegisterThread(); });
  threads.WaitAllArrived();  // every id held until all threads have tried
  threads.Release();
  EXPECT_EQ(registered.load(), static_cast<int>(kMaxCachedThreads));
  EXPECT_EQ(ThreadsWithoutLcore() - without0, static_cast<uint64_t>(kThreads - registered));
}

TEST_F(DeviceTest, ARefusedThreadGetsAnLcoreOnceAnotherThreadExits) {
  std::atomic<int> holding{0};
  HeldThreads holders(kMaxCachedThreads, [&] { holding += RegisterThread(); });
  holders.WaitAllArrived();
  ASSERT_EQ(holding.load(), static_cast<int>(kMaxCachedThreads));
  bool first = true, later = false;
  std::thread late([&] {
    first = RegisterThread();
    holders.Release();
    later = RegisterThread();
  });
  late.join();
  EXPECT_FALSE(first) << "every slot was held";
  EXPECT_TRUE(later) << "the holders exited and gave their slots back";
}

TEST_F(DeviceTest, ThreadsThatExitGiveTheirCachedMbufsBackToThePool) {
  Open(1024);
  rte_mempool* pool = port_->pool();
  ASSERT_GT(pool->cache_size, 0u) << "the default port's pool has per-lcore caches";
  const uint32_t before = port_->MbufsInCaches();
  constexpr int kThreads = kMaxCachedThreads;
  HeldThreads threads(kThreads, [&] {
    ASSERT_TRUE(RegisterThread());
    // Take a cache's worth and give it back: the frees stay in this thread's cache.
    std::vector<rte_mbuf*> got(pool->cache_size);
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool, got.data(), got.size()), 0);
    for (rte_mbuf* m : got) rte_pktmbuf_free(m);
  });
  threads.WaitAllArrived();
  const uint32_t held = port_->MbufsInCaches() - before;
  EXPECT_GE(held, static_cast<uint32_t>(kThreads)) << "each live thread keeps some of its frees";
  EXPECT_LE(held, port_->pool_size() / 4) << "all caches together hold a bounded share";
  threads.Release();
  // Seen without the flush at exit: a sync server's short-lived threads left 17 081 of
  // 18 432 mbufs in dead threads' caches, and TX failed on every frame.
  EXPECT_EQ(port_->MbufsInCaches(), before) << "exited threads flushed their caches";
  std::vector<rte_mbuf*> all(port_->pool_size() - port_->MbufsInUse() - before);
  EXPECT_EQ(rte_mempool_get_bulk(pool, reinterpret_cast<void**>(all.data()), all.size()), 0)
      << "every free mbuf can be taken from the common pool";
  rte_mempool_put_bulk(pool, reinterpret_cast<void**>(all.data()), all.size());
}

}  // namespace
}  // namespace grpc_bypass::dpdk
