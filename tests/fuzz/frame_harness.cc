#include "tests/fuzz/frame_harness.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip6_addr.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "transport/lwip/frame_check.h"

namespace grpc_bypass::fuzz {
namespace {

constexpr uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x02};
constexpr uint8_t kPeerMac[6] = {0x02, 0, 0, 0, 0, 0x01};
constexpr uint16_t kPort = 7;

netif g_netif;
bool g_ready = false;
HarnessStats g_stats{};
std::vector<uint8_t> g_last_tx;  // the last frame lwIP sent
std::vector<std::vector<uint8_t>> g_sent;  // frames sent since TakeSentFrames (at most 256)
tcp_pcb* g_conn = nullptr;       // our side of the established connection
uint16_t g_peer_port = 40000;
uint32_t g_peer_seq = 0;  // next sequence number the peer sends
uint32_t g_our_seq = 0;   // next sequence number we send (what the peer acknowledges)

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Put16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
uint32_t Get32(const uint8_t* p) { return uint32_t{Get16(p)} << 16 | Get16(p + 2); }
void Put32(uint8_t* p, uint32_t v) { Put16(p, v >> 16); Put16(p + 2, v & 0xffff); }

// One's-complement sum of big-endian 16-bit words.
uint32_t Sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += Get16(p + i);
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

err_t LinkOutput(struct netif*, pbuf* p) {
  g_last_tx.resize(p->tot_len);
  pbuf_copy_partial(p, g_last_tx.data(), p->tot_len, 0);
  if (g_sent.size() < 256) g_sent.push_back(g_last_tx);
  g_stats.frames_out++;
  return ERR_OK;
}

err_t NetifInit(struct netif* n) {
  n->linkoutput = LinkOutput;
  n->output = etharp_output;
  n->output_ip6 = ethip6_output;
  n->mtu = 1500;
  n->hwaddr_len = 6;
  std::memcpy(n->hwaddr, kOurMac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
  return ERR_OK;
}

// As DpdkNetif::Input: incomplete headers are dropped (and counted) before lwIP, and lwIP
// gets the frame zero-copy in a custom pbuf whose buffer is exactly the frame (so that ASan
// sees a read even one byte past it, as it would run off the end of an mbuf's data).
struct HeapPbuf {
  pbuf_custom pc;
  uint8_t* data;
};

void FreeHeapPbuf(pbuf* p) {
  auto* h = reinterpret_cast<HeapPbuf*>(p);
  std::free(h->data);
  delete h;
}

pbuf* HeapPbufOf(const uint8_t* bytes, size_t len) {
  auto* h = new HeapPbuf{};
  h->data = static_cast<uint8_t*>(std::malloc(len == 0 ? 1 : len));
  std::memcpy(h->data, bytes, len);
  h->pc.custom_free_function = FreeHeapPbuf;
  return pbuf_alloced_custom(PBUF_RAW, static_cast<u16_t>(len), PBUF_REF, &h->pc, h->data,
                             static_cast<u16_t>(len));
}

// `split` in (0, len): the frame arrives as a chain of two pbufs (a scattered mbuf chain),
// the first holding `split` bytes.
void Input(const uint8_t* frame, size_t len, size_t split = 0, bool check = true) {
  if (split >= len) split = 0;
  if (check && !HeadersComplete(frame, split == 0 ? len : split, len)) {
    g_stats.runts++;
    return;
  }
  pbuf* p = HeapPbufOf(frame, split == 0 ? len : split);
  if (split != 0) pbuf_cat(p, HeapPbufOf(frame + split, len - split));
  g_stats.frames_in++;
  if (g_netif.input(p, &g_netif) != ERR_OK) pbuf_free(p);
}

// Fixes lengths and checksums of an IPv4/IPv6 frame in place (flags bit 0).
void FixUp(uint8_t* f, size_t len) {
  if (len < 14) return;
  const uint16_t type = Get16(f + 12);
  uint8_t* ip = f + 14;
  const size_t iplen = len - 14;
  if (type == 0x0800 && iplen >= 20) {
    const size_t ihl = (ip[0] & 0x0f) * 4u;
    if (ihl < 20 || ihl > iplen) return;
    Put16(ip + 2, static_cast<uint16_t>(iplen));
    Put16(ip + 10, 0);
    Put16(ip + 10, Fold(Sum(ip, ihl)));
    uint8_t* l4 = ip + ihl;
    const size_t l4len = iplen - ihl;
    if (ip[9] == 6 && l4len >= 20) {
      Put16(l4 + 16, 0);
      uint32_t s = Sum(ip + 12, 8) + 6 + static_cast<uint32_t>(l4len);
      Put16(l4 + 16, Fold(Sum(l4, l4len, s)));
    } else if (ip[9] == 1 && l4len >= 4) {
      Put16(l4 + 2, 0);
      Put16(l4 + 2, Fold(Sum(l4, l4len)));
    }
  } else if (type == 0x86dd && iplen >= 40) {
    const size_t plen = iplen - 40;
    Put16(ip + 4, static_cast<uint16_t>(plen));
    uint8_t* l4 = ip + 40;
    const uint8_t next = ip[6];
    const size_t csum_off = next == 6 ? 16 : next == 58 ? 2 : 0;
    if (csum_off == 0 || plen < csum_off + 2) return;
    Put16(l4 + csum_off, 0);
    uint32_t s = Sum(ip + 8, 32) + next + static_cast<uint32_t>(plen);
    Put16(l4 + csum_off, Fold(Sum(l4, plen, s)));
  }
}

// Points an IPv4 TCP frame at the established connection (flags bit 1).
void Steer(uint8_t* f, size_t len) {
  if (len < 14 + 20 + 20 || Get16(f + 12) != 0x0800) return;
  uint8_t* ip = f + 14;
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  if (ip[9] != 6 || ihl < 20 || len < 14 + ihl + 20) return;
  std::memcpy(f, kOurMac, 6);
  std::memcpy(f + 6, kPeerMac, 6);
  const uint8_t peer[4] = {198, 18, 0, 1}, ours[4] = {198, 18, 0, 2};
  std::memcpy(ip + 12, peer, 4);
  std::memcpy(ip + 16, ours, 4);
  uint8_t* tcp = ip + ihl;
  Put16(tcp, g_peer_port);
  Put16(tcp + 2, kPort);
  // Small offsets from the expected numbers keep the segment near or inside the window.
  Put32(tcp + 4, g_peer_seq + static_cast<int8_t>(tcp[4]) * 64);
  Put32(tcp + 8, g_our_seq + static_cast<int8_t>(tcp[8]) * 64);
}

// A TCP/IPv4 frame from the peer to us.
std::vector<uint8_t> TcpFrame(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
                              const uint8_t* data = nullptr, size_t n = 0) {
  std::vector<uint8_t> f(14 + 20 + 20 + n, 0);
  std::memcpy(f.data(), kOurMac, 6);
  std::memcpy(f.data() + 6, kPeerMac, 6);
  Put16(f.data() + 12, 0x0800);
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t peer[4] = {198, 18, 0, 1}, ours[4] = {198, 18, 0, 2};
  std::memcpy(ip + 12, peer, 4);
  std::memcpy(ip + 16, ours, 4);
  uint8_t* tcp = ip + 20;
  Put16(tcp, sport);
  Put16(tcp + 2, kPort);
  Put32(tcp + 4, seq);
  Put32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  Put16(tcp + 14, 65535);
  if (n) std::memcpy(tcp + 20, data, n);
  FixUp(f.data(), f.size());
  return f;
}

err_t OnRecv(void*, tcp_pcb* pcb, pbuf* p, err_t) {
  if (p == nullptr) {  // FIN
    if (pcb == g_conn) g_conn = nullptr;
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_err(pcb, nullptr);
    if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    return ERR_OK;
  }
  if (pcb == g_conn) g_peer_seq += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

void OnErr(void* arg, err_t) {
  if (arg == &g_conn) g_conn = nullptr;  // lwIP has freed the pcb
}

err_t OnAccept(void*, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  tcp_recv(pcb, OnRecv);
  if (g_conn == nullptr && pcb->remote_port == g_peer_port) {
    g_conn = pcb;
    tcp_arg(pcb, &g_conn);
    tcp_err(pcb, OnErr);
    g_stats.connections_made++;
  }
  return ERR_OK;
}

void Establish() {
  ++g_peer_port;
  if (g_peer_port < 40000) g_peer_port = 40000;
  const uint32_t isn = 1000u + g_peer_port * 7919u;
  g_last_tx.clear();
  std::vector<uint8_t> syn = TcpFrame(g_peer_port, isn, 0, 0x02);
  Input(syn.data(), syn.size());
  // Our SYN-ACK: its sequence number is our ISN.
  if (g_last_tx.size() < 14 + 20 + 20) return;
  const uint32_t our_isn = Get32(g_last_tx.data() + 14 + 20 + 4);
  g_peer_seq = isn + 1;
  g_our_seq = our_isn + 1;
  std::vector<uint8_t> ack = TcpFrame(g_peer_port, g_peer_seq, g_our_seq, 0x10);
  Input(ack.data(), ack.size());
  const uint8_t hello[] = "hello";
  std::vector<uint8_t> data = TcpFrame(g_peer_port, g_peer_seq, g_our_seq, 0x18, hello, 5);
  Input(data.data(), data.size());
}

void Init() {
  lwip_init();
  ip4_addr_t ip, mask, gw;
  IP4_ADDR(&ip, 198, 18, 0, 2);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gw, 0, 0, 0, 0);
  netif_add(&g_netif, &ip, &mask, &gw, nullptr, NetifInit, ethernet_input);
  netif_create_ip6_linklocal_address(&g_netif, 1);
  ip6_addr_t ip6;
  ip6addr_aton("fd00:77::2", &ip6);
  netif_ip6_addr_set(&g_netif, 1, &ip6);
  netif_ip6_addr_set_state(&g_netif, 1, IP6_ADDR_PREFERRED);
  netif_ip6_addr_set_state(&g_netif, 0, IP6_ADDR_PREFERRED);
  netif_set_default(&g_netif);
  netif_set_up(&g_netif);
  netif_set_link_up(&g_netif);
  ip4_addr_t peer;
  IP4_ADDR(&peer, 198, 18, 0, 1);
  eth_addr peer_mac;
  std::memcpy(peer_mac.addr, kPeerMac, 6);
  etharp_add_static_entry(&peer, &peer_mac);
  tcp_pcb* l = tcp_new_ip_type(IPADDR_TYPE_ANY);
  tcp_bind(l, IP_ANY_TYPE, kPort);
  l = tcp_listen(l);
  tcp_accept(l, OnAccept);
  g_ready = true;
}

}  // namespace

void RunInput(const uint8_t* data, size_t size) {
  if (!g_ready) Init();
  // Age lwIP now and then (its TCP timers count calls, not seconds) so that half-open
  // connections from earlier inputs expire instead of piling up to the pool's limit.
  static uint32_t inputs = 0;
  if (++inputs % 4096 == 0) {
    for (int i = 0; i < 100; ++i) tcp_tmr();
  }
  if (g_conn == nullptr) Establish();
  if (size == 0) return;
  const uint8_t flags = data[0];
  size_t i = 1;
  std::vector<uint8_t> frame;
  while (i + 2 <= size) {
    size_t len = Get16(data + i);
    i += 2;
    if (len > size - i) len = size - i;
    if (len > 1514) len = 1514;
    frame.assign(data + i, data + i + len);
    i += len;
    if (flags & 2) Steer(frame.data(), frame.size());
    if (flags & 1) FixUp(frame.data(), frame.size());
    if (!frame.empty()) Input(frame.data(), frame.size(), (flags & 8) ? frame.size() / 2 : 0);
  }
  if (flags & 4) {
    tcp_tmr();
    etharp_tmr();
    nd6_tmr();
  }
}

HarnessStats GetHarnessStats() { return g_stats; }

PeerView NewConnection() {
  if (!g_ready) Init();
  if (g_conn != nullptr) tcp_abort(g_conn);  // OnErr clears g_conn
  g_conn = nullptr;
  Establish();
  g_sent.clear();
  return PeerView{g_conn, g_peer_seq, g_our_seq, g_peer_port};
}

std::vector<uint8_t> PeerTcpFrame(uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags,
                                  const uint8_t* data, size_t n) {
  return TcpFrame(port, seq, ack, flags, data, n);
}

void FixUpFrame(std::vector<uint8_t>& frame) { FixUp(frame.data(), frame.size()); }

void InputFrame(const std::vector<uint8_t>& frame, size_t split) {
  if (!g_ready) Init();
  Input(frame.data(), frame.size(), split);
}

void InputFrameUnchecked(const std::vector<uint8_t>& frame) {
  if (!g_ready) Init();
  Input(frame.data(), frame.size(), 0, /*check=*/false);
}

std::vector<std::vector<uint8_t>> TakeSentFrames() {
  std::vector<std::vector<uint8_t>> out;
  out.swap(g_sent);
  return out;
}

bool ConnectionAlive(const tcp_pcb* pcb) {
  for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) {
    if (p == pcb) return true;
  }
  return false;
}

}  // namespace grpc_bypass::fuzz
