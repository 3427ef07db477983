#include "transport/dpdk/device.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <cstring>

namespace grpc_bypass::dpdk {
namespace {

uint64_t MacKey(const rte_ether_addr& a) {
  uint64_t k = 0;
  std::memcpy(&k, a.addr_bytes, RTE_ETHER_ADDR_LEN);
  return k;
}

// Software check of the IPv4 header and TCP checksums of an untagged frame whose first
// segment holds the headers. Non-TCP frames: IPv4 header only. Returns false if bad.
bool VerifyChecksumsInSoftware(rte_mbuf* m) {
  if (m->data_len < sizeof(rte_ether_hdr)) return true;  // lwIP drops runts
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  if (type == RTE_ETHER_TYPE_IPV4) {
    if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return true;
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    const uint32_t ihl = rte_ipv4_hdr_len(ip);
    if (ihl < sizeof(rte_ipv4_hdr) || m->data_len < sizeof(rte_ether_hdr) + ihl) return true;
    if (rte_raw_cksum(ip, ihl) != 0xffff) return false;
    if (ip->next_proto_id == IPPROTO_TCP && m->nb_segs == 1 &&
        rte_be_to_cpu_16(ip->total_length) <= m->data_len - sizeof(rte_ether_hdr) &&
        rte_be_to_cpu_16(ip->total_length) >= ihl + sizeof(rte_tcp_hdr) &&
        (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0) {
      return rte_ipv4_udptcp_cksum_verify(ip, reinterpret_cast<uint8_t*>(ip) + ihl) == 0;
    }
  } else if (type == RTE_ETHER_TYPE_IPV6) {
    if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr)) return true;
    auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    const uint32_t plen = rte_be_to_cpu_16(ip6->payload_len);
    if (ip6->proto == IPPROTO_TCP && m->nb_segs == 1 && plen >= sizeof(rte_tcp_hdr) &&
        plen <= m->data_len - sizeof(rte_ether_hdr) - sizeof(rte_ipv6_hdr)) {
      return rte_ipv6_udptcp_cksum_verify(ip6, ip6 + 1) == 0;
    }
  }
  return true;
}

}  // namespace

Device::Device(DeviceConfig config) : config_(std::move(config)) {
  fault_state_ = (config_.fault_seed * 0x9E3779B97F4A7C15ULL) | 1;  // never 0
  bool first = true;
  for (Port* p : config_.ports) {
    auto pp = std::make_unique<PerPort>();
    pp->port = p;
    pp->backlog.reserve(kBurst * 4);
    ports_.push_back(std::move(pp));
    const Offloads& o = p->offloads();
    if (first) {
      common_ = o;
      first = false;
    } else {
      common_.tx_ipv4_cksum &= o.tx_ipv4_cksum;
      common_.tx_tcp_cksum &= o.tx_tcp_cksum;
      common_.rx_ipv4_cksum &= o.rx_ipv4_cksum;
      common_.rx_tcp_cksum &= o.rx_tcp_cksum;
      common_.vlan_insert &= o.vlan_insert;
      common_.vlan_strip &= o.vlan_strip;
      common_.tso &= o.tso;
      common_.tx_copies &= o.tx_copies;
      common_.tx_syscall_per_frame &= o.tx_syscall_per_frame;
    }
  }
  // RX checksums count as offloaded only if both are (lwIP's switches are per netif).
  if (!(common_.rx_ipv4_cksum && common_.rx_tcp_cksum)) {
    common_.rx_ipv4_cksum = common_.rx_tcp_cksum = false;
  }
  relearn_tsc_ = static_cast<uint64_t>(config_.relearn_seconds * rte_get_tsc_hz());
}

Device::~Device() {
  if (held_back_ != nullptr) rte_pktmbuf_free(held_back_);
  for (auto& pp : ports_) {
    for (rte_mbuf* m : pp->backlog) rte_pktmbuf_free(m);
    pp->backlog.clear();
  }
}

bool Device::LinkUp() const {
  for (const auto& pp : ports_) {
    if (pp->port->LinkUp()) return true;
  }
  return false;
}

bool Device::RefreshLinkState() {
  bool any = false;
  for (auto& pp : ports_) {
    pp->link_up = pp->port->LinkUp();
    any |= pp->link_up;
  }
  return any;
}

// ---------------------------------------------------------------------------------------
// RX

uint16_t Device::Receive(rte_mbuf** out, uint16_t max) {
  uint16_t n = 0;
  // Injected frames first (tests, fuzzing, crafted control frames).
  if (has_injected_.load(std::memory_order_acquire)) {
    absl::MutexLock lock(&inject_mu_);
    while (!injected_.empty() && n < max) {
      const std::string& f = injected_.front();
      PerPort& pp = *ports_[0];
      rte_mbuf* m = rte_pktmbuf_alloc(pp.port->pool());
      char* dst = m ? rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())) : nullptr;
      if (dst == nullptr) {
        if (m) rte_pktmbuf_free(m);
        pp.inject_drops.Inc();
      } else {
        std::memcpy(dst, f.data(), f.size());
        pp.injected.Inc();
        if (ProcessRx(m, 0, /*injected=*/true)) out[n++] = m;
      }
      injected_.pop_front();
    }
    has_injected_.store(!injected_.empty(), std::memory_order_release);
  }
  for (uint16_t i = 0; i < ports_.size() && n < max; ++i) {
    PerPort& pp = *ports_[i];
    const uint16_t want = std::min<uint16_t>(kBurst, max - n);
    pp.port->KickRx();
    const uint16_t got = rte_eth_rx_burst(pp.port->id(), config_.queue, out + n, want);
    uint16_t kept = 0;
    for (uint16_t j = 0; j < got; ++j) {
      rte_mbuf* m = out[n + j];
      pp.rx_packets.Inc();
      pp.rx_bytes.Add(rte_pktmbuf_pkt_len(m));
      if (ProcessRx(m, i, /*injected=*/false)) out[n + kept++] = m;
    }
    n += kept;
  }
  if (config_.fault_drop > 0 || config_.fault_reorder > 0) n = InjectFaults(out, n, max);
  return n;
}

double Device::NextUniform() {
  fault_state_ ^= fault_state_ >> 12;
  fault_state_ ^= fault_state_ << 25;
  fault_state_ ^= fault_state_ >> 27;
  return static_cast<double>((fault_state_ * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

uint16_t Device::InjectFaults(rte_mbuf** out, uint16_t n, uint16_t max) {
  uint16_t kept = 0;
  rte_mbuf* hold = nullptr;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = out[i];
    PerPort& pp = *ports_[m->port];
    const double u = NextUniform();
    if (u < config_.fault_drop) {
      pp.fault_drops.Inc();
      rte_pktmbuf_free(m);
    } else if (u < config_.fault_drop + config_.fault_reorder && held_back_ == nullptr &&
               hold == nullptr) {
      pp.fault_reorders.Inc();
      hold = m;  // goes out after the frames that follow it
    } else {
      out[kept++] = m;
    }
  }
  // The frame held back last time goes out now, after this burst's frames.
  if (held_back_ != nullptr && kept < max) {
    out[kept++] = held_back_;
    held_back_ = nullptr;
  }
  // A frame is held only while none was held before this burst, so the slot is free now.
  if (hold != nullptr) held_back_ = hold;
  return kept;
}

bool Device::ProcessRx(rte_mbuf* m, uint16_t port_index, bool injected) {
  PerPort& pp = *ports_[port_index];
  m->port = port_index;
  // VLAN: keep only our VLAN (or only untagged frames when none is configured).
  uint16_t tci = 0;
  bool tagged = false;
  if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
    tagged = true;
    tci = m->vlan_tci;
    m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
  } else if (m->data_len >= sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr) &&
             rte_pktmbuf_mtod(m, rte_ether_hdr*)->ether_type ==
                 rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
    tagged = true;
    tci = rte_be_to_cpu_16(
        reinterpret_cast<rte_vlan_hdr*>(rte_pktmbuf_mtod(m, rte_ether_hdr*) + 1)->vlan_tci);
    rte_vlan_strip(m);
    m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
  }
  const uint16_t vid = tci & 0xfff;
  if ((config_.vlan == 0 && tagged && vid != 0) ||
      (config_.vlan != 0 && (!tagged || vid != config_.vlan) && !injected)) {
    pp.rx_vlan_drops.Inc();
    rte_pktmbuf_free(m);
    return false;
  }
  // Checksums, when lwIP was told not to check them.
  if (common_.rx_ipv4_cksum) {
    const uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    const uint64_t l4f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    bool bad = ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD || l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD;
    if (!bad && (ipf != RTE_MBUF_F_RX_IP_CKSUM_GOOD || l4f != RTE_MBUF_F_RX_L4_CKSUM_GOOD)) {
      bad = !VerifyChecksumsInSoftware(m);
    }
    if (bad) {
      pp.rx_bad_cksum.Inc();
      rte_pktmbuf_free(m);
      return false;
    }
  }
  Learn(m, port_index);
  return true;
}

void Device::Learn(const rte_mbuf* m, uint16_t port_index) {
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) return;
  if (!rte_is_unicast_ether_addr(&eth->src_addr)) return;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const uint32_t src = ip->src_addr;
  if (src == 0 || src == 0xffffffff) return;
  const uint64_t now = rte_get_tsc_cycles();
  auto [it, inserted] = neighbors_.try_emplace(src);
  Neighbor& nb = it->second;
  const bool changed = inserted || !rte_is_same_ether_addr(&nb.mac, &eth->src_addr) ||
                       nb.port_index != port_index;
  if (changed || now - nb.last_report_tsc >= relearn_tsc_) {
    rte_ether_addr_copy(&eth->src_addr, &nb.mac);
    nb.port_index = port_index;
    nb.last_report_tsc = now;
    learned_.push_back({eth->src_addr, src, port_index});
    ports_[port_index]->mac_learned.Inc();
    if (ports_.size() > 1) mac_to_port_[MacKey(eth->src_addr)] = port_index;
  }
}

std::vector<LearnedNeighbor> Device::TakeLearnedNeighbors() {
  std::vector<LearnedNeighbor> out;
  out.swap(learned_);
  return out;
}

void Device::InjectFrame(absl::Span<const uint8_t> frame) {
  absl::MutexLock lock(&inject_mu_);
  injected_.emplace_back(reinterpret_cast<const char*>(frame.data()), frame.size());
  has_injected_.store(true, std::memory_order_release);
}

// ---------------------------------------------------------------------------------------
// TX

rte_mbuf* Device::AllocTx() {
  rte_mbuf* m = rte_pktmbuf_alloc(ports_[0]->port->pool());
  if (m == nullptr) ports_[0]->tx_nombuf.Inc();
  return m;
}

void Device::PrepareChecksumOffload(rte_mbuf* m) {
  if (!common_.tx_ipv4_cksum && !common_.tx_tcp_cksum) return;
  if (m->data_len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  m->l2_len = sizeof(rte_ether_hdr);
  if (type == RTE_ETHER_TYPE_IPV4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    m->l3_len = rte_ipv4_hdr_len(ip);
    m->ol_flags |= RTE_MBUF_F_TX_IPV4;
    if (common_.tx_ipv4_cksum) {
      ip->hdr_checksum = 0;
      m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
    }
    if (common_.tx_tcp_cksum && ip->next_proto_id == IPPROTO_TCP &&
        m->data_len >= m->l2_len + m->l3_len + sizeof(rte_tcp_hdr)) {
      auto* tcp = reinterpret_cast<rte_tcp_hdr*>(reinterpret_cast<uint8_t*>(ip) + m->l3_len);
      m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
      tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    }
  } else if (type == RTE_ETHER_TYPE_IPV6 && common_.tx_tcp_cksum &&
             m->data_len >= sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + sizeof(rte_tcp_hdr)) {
    auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    if (ip6->proto == IPPROTO_TCP) {
      m->l3_len = sizeof(rte_ipv6_hdr);
      m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM;
      auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip6 + 1);
      tcp->cksum = rte_ipv6_phdr_cksum(ip6, m->ol_flags);
    }
  }
}

uint16_t Device::TxPortFor(const rte_mbuf* m) const {
  if (config_.tx_port_index >= 0) return static_cast<uint16_t>(config_.tx_port_index);
  if (ports_.size() == 1) return 0;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  auto it = mac_to_port_.find(MacKey(eth->dst_addr));
  return it == mac_to_port_.end() ? 0 : it->second;
}

bool Device::Send(rte_mbuf* m) {
  const uint16_t idx = TxPortFor(m);
  PerPort& pp = *ports_[idx];
  PrepareChecksumOffload(m);
  if (config_.vlan != 0) {
    // The NIC inserts the tag from these; without the offload rte_vlan_insert reads them.
    m->ol_flags |= RTE_MBUF_F_TX_VLAN;
    m->vlan_tci = config_.vlan;
    if (!pp.port->offloads().vlan_insert) {
      if (rte_vlan_insert(&m) != 0) {
        pp.tx_drops.Inc();
        rte_pktmbuf_free(m);
        return false;
      }
      m->ol_flags &= ~RTE_MBUF_F_TX_VLAN;
      m->l2_len += sizeof(rte_vlan_hdr);
    }
  }
  if (pp.backlog.size() >= config_.tx_backlog_limit) {
    pp.tx_drops.Inc();
    rte_pktmbuf_free(m);
    return false;
  }
  pp.backlog.push_back(m);
  return true;
}

uint32_t Device::FlushTx() {
  uint32_t total = 0;
  for (auto& ppp : ports_) {
    PerPort& pp = *ppp;
    size_t done = 0;
    const size_t cap = config_.fault_tx_limit > 0 ? config_.fault_tx_limit : SIZE_MAX;
    while (pp.link_up && done < pp.backlog.size()) {
      if (done >= cap) {  // fault injection: the ring takes no more this time
        pp.tx_retries.Add(pp.backlog.size() - done);
        break;
      }
      const uint16_t want = static_cast<uint16_t>(
          std::min<size_t>({kBurst, pp.backlog.size() - done, cap - done}));
      // Lengths are read before tx_burst: afterwards the sent mbufs belong to the driver.
      uint32_t lens[kBurst];
      for (uint16_t i = 0; i < want; ++i) lens[i] = rte_pktmbuf_pkt_len(pp.backlog[done + i]);
      const uint16_t sent =
          rte_eth_tx_burst(pp.port->id(), config_.queue, pp.backlog.data() + done, want);
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < sent; ++i) bytes += lens[i];
      pp.tx_bytes.Add(bytes);
      done += sent;
      if (sent < want) {
        pp.tx_retries.Add(want - sent);
        break;
      }
    }
    if (done > 0) {
      pp.tx_packets.Add(done);
      pp.backlog.erase(pp.backlog.begin(), pp.backlog.begin() + done);
      total += done;
    }
    pp.tx_backlog.Set(pp.backlog.size());
  }
  return total;
}

size_t Device::TxBacklog() const {
  size_t n = 0;
  for (const auto& pp : ports_) n += pp->backlog.size();
  return n;
}

std::vector<PortQueueStats> Device::Stats() const {
  std::vector<PortQueueStats> out;
  for (const auto& ppp : ports_) {
    const PerPort& pp = *ppp;
    PortQueueStats s{};
    s.port_id = pp.port->id();
    s.queue = config_.queue;
    s.rx_packets = pp.rx_packets.Get();
    s.rx_bytes = pp.rx_bytes.Get();
    s.rx_bad_cksum = pp.rx_bad_cksum.Get();
    s.rx_vlan_drops = pp.rx_vlan_drops.Get();
    s.rx_drops = s.rx_bad_cksum + s.rx_vlan_drops;
    s.rx_nombuf = pp.port->RxNoMbuf();
    s.tx_packets = pp.tx_packets.Get();
    s.tx_bytes = pp.tx_bytes.Get();
    s.tx_retries = pp.tx_retries.Get();
    s.tx_drops = pp.tx_drops.Get();
    s.tx_nombuf = pp.tx_nombuf.Get();
    s.tx_backlog = pp.tx_backlog.Get();
    s.injected = pp.injected.Get();
    s.inject_drops = pp.inject_drops.Get();
    s.mac_learned = pp.mac_learned.Get();
    s.fault_drops = pp.fault_drops.Get();
    s.fault_reorders = pp.fault_reorders.Get();
    s.mempool_in_use = pp.port->MbufsInUse();
    s.mempool_size = pp.port->pool_size();
    s.mempool_in_caches = pp.port->MbufsInCaches();
    out.push_back(s);
  }
  return out;
}

}  // namespace grpc_bypass::dpdk
