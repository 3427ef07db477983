#include "transport/lwip/netif.h"

#include "transport/lwip/frame_check.h"

#include <rte_mbuf.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip4_addr.h"
#include "lwip/prot/etharp.h"
#include "lwip/prot/ethernet.h"
#include "netif/ethernet.h"

namespace grpc_bypass {

absl::StatusOr<std::unique_ptr<DpdkNetif>> DpdkNetif::Create(dpdk::Device* device,
                                                             const StackConfig& cfg) {
  std::unique_ptr<DpdkNetif> self(new DpdkNetif(device, cfg));
  ip4_addr_t ip, mask, gw;
  ip.addr = cfg.ip.addr_be;
  mask.addr = cfg.ip.prefix_len == 0 ? 0 : lwip_htonl(~0u << (32 - cfg.ip.prefix_len));
  gw.addr = cfg.gw_be.value_or(0);
  if (netif_add(&self->netif_, &ip, &mask, &gw, self.get(), &DpdkNetif::InitFn,
                ethernet_input) == nullptr) {
    return absl::InternalError("lwIP refused the DPDK interface (netif_add failed)");
  }
  self->added_ = true;
  netif* n = &self->netif_;
  netif_create_ip6_linklocal_address(n, 1);
  if (cfg.ip6) {
    ip6_addr_t a;
    std::memcpy(a.addr, cfg.ip6->addr, 16);
    ip6_addr_clear_zone(&a);
    s8_t idx = -1;
    if (netif_add_ip6_address(n, &a, &idx) != ERR_OK || idx < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYPASS_IP6: lwIP cannot add ", cfg.ip6->ToString()));
    }
    netif_ip6_addr_set_state(n, idx, IP6_ADDR_PREFERRED);
  }
  netif_set_default(n);
  netif_set_up(n);
  self->SetLinkUp(device->LinkUp());
  return self;
}

DpdkNetif::~DpdkNetif() {
  if (added_) netif_remove(&netif_);
}

err_t DpdkNetif::InitFn(netif* n) {
  auto* self = static_cast<DpdkNetif*>(n->state);
  const rte_ether_addr& mac = self->device_->primary()->mac();
  n->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(n->hwaddr, mac.addr_bytes, ETH_HWADDR_LEN);
  n->mtu = self->cfg_.mtu;
  n->mtu6 = self->cfg_.mtu;
  n->name[0] = 'd';
  n->name[1] = 'p';
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
  n->output = etharp_output;
  n->output_ip6 = ethip6_output;
  n->linkoutput = &DpdkNetif::LinkOutput;
  // Checksums the NIC does are switched off in lwIP (the device prepares the offload).
  const dpdk::Offloads& o = self->device_->offloads();
  u16_t flags = NETIF_CHECKSUM_ENABLE_ALL;
  if (o.tx_ipv4_cksum) flags &= ~NETIF_CHECKSUM_GEN_IP;
  if (o.tx_tcp_cksum) flags &= ~NETIF_CHECKSUM_GEN_TCP;
  if (o.rx_ipv4_cksum && o.rx_tcp_cksum) flags &= ~(NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_TCP);
  NETIF_SET_CHECKSUM_CTRL(n, flags);
  // No TX copy where the PMD copies the frame out itself, and not where the device edits
  // headers (checksum offloads, VLAN insertion).
  self->tx_without_copy_ =
      o.tx_copies && self->cfg_.vlan == 0 && !o.tx_ipv4_cksum && !o.tx_tcp_cksum;
  return ERR_OK;
}

void DpdkNetif::SetLinkUp(bool up) {
  if (up && !netif_is_link_up(&netif_)) netif_set_link_up(&netif_);
  if (!up && netif_is_link_up(&netif_)) netif_set_link_down(&netif_);
}

void DpdkNetif::FreeRxPbuf(pbuf* p) {
  auto* rp = reinterpret_cast<RxPbuf*>(p);
  rte_pktmbuf_free_seg(rp->mbuf);
}

void DpdkNetif::Input(rte_mbuf* m) {
  counters_.rx_frames.Inc();
  if (!HeadersComplete(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                       rte_pktmbuf_pkt_len(m))) {
    counters_.rx_runts.Inc();
    rte_pktmbuf_free(m);
    return;
  }
  pbuf* head = nullptr;
  for (rte_mbuf* seg = m; seg != nullptr;) {
    rte_mbuf* next = seg->next;
    seg->next = nullptr;  // each segment is freed on its own, by its own pbuf
    seg->nb_segs = 1;
    auto* rp = static_cast<RxPbuf*>(rte_mbuf_to_priv(seg));
    rp->mbuf = seg;
    rp->pc.custom_free_function = &DpdkNetif::FreeRxPbuf;
    pbuf* p = pbuf_alloced_custom(PBUF_RAW, seg->data_len, PBUF_REF, &rp->pc,
                                  rte_pktmbuf_mtod(seg, void*), seg->data_len);
    if (head == nullptr) {
      head = p;
    } else {
      pbuf_cat(head, p);
    }
    seg = next;
  }
  if (netif_.input(head, &netif_) != ERR_OK) {
    counters_.rx_input_errors.Inc();
    pbuf_free(head);
  }
}

void DpdkNetif::FreeTxPbuf(void* /*addr*/, void* opaque) {
  pbuf_free(static_cast<pbuf*>(opaque));  // in tx_burst or a backlog drop: the token holder
}

rte_mbuf* DpdkNetif::AttachTx(pbuf* p) {
  rte_mbuf* m = device_->AllocTx();
  if (m == nullptr) return nullptr;
  rte_mbuf_ext_shared_info* sh = &static_cast<MbufPriv*>(rte_mbuf_to_priv(m))->tx;
  sh->free_cb = &DpdkNetif::FreeTxPbuf;
  sh->fcb_opaque = p;
  rte_mbuf_ext_refcnt_set(sh, 1);
  pbuf_ref(p);  // lwIP keeps its own reference (a TCP segment until acknowledged); lwIP
                // does not resend a segment while this one is held (tcp_output_segment_busy)
  rte_pktmbuf_attach_extbuf(m, p->payload, RTE_BAD_IOVA, p->len, sh);
  m->data_len = p->len;
  m->pkt_len = p->len;
  counters_.tx_zero_copy.Inc();
  return m;
}

err_t DpdkNetif::LinkOutput(netif* n, pbuf* p) {
  auto* self = static_cast<DpdkNetif*>(n->state);
  dpdk::Device* dev = self->device_;
  // One pbuf only: the usual TCP segment, headers and data in one buffer.
  if (self->tx_without_copy_ && p->next == nullptr) {
    rte_mbuf* m = self->AttachTx(p);
    if (m == nullptr) {
      self->counters_.tx_nomem.Inc();
      return ERR_MEM;
    }
    if (!dev->Send(m)) {  // freed by Send: our pbuf reference is dropped with it
      self->counters_.tx_dropped.Inc();
      return ERR_MEM;
    }
    self->counters_.tx_frames.Inc();
    return ERR_OK;
  }
  rte_mbuf* head = dev->AllocTx();
  if (head == nullptr) {
    self->counters_.tx_nomem.Inc();
    return ERR_MEM;  // lwIP keeps the segment and retries: back-pressure, not loss
  }
  uint32_t off = 0;
  const uint32_t total = p->tot_len;
  rte_mbuf* last = head;
  while (off < total) {
    uint16_t room = rte_pktmbuf_tailroom(last);
    if (room == 0) {
      rte_mbuf* seg = dev->AllocTx();
      if (seg == nullptr || rte_pktmbuf_chain(head, seg) != 0) {
        if (seg) rte_pktmbuf_free(seg);
        rte_pktmbuf_free(head);
        self->counters_.tx_nomem.Inc();
        return ERR_MEM;
      }
      last = seg;
      continue;
    }
    const uint16_t chunk = static_cast<uint16_t>(std::min<uint32_t>(room, total - off));
    char* dst = rte_pktmbuf_append(head, chunk);
    pbuf_copy_partial(p, dst, chunk, static_cast<u16_t>(off));
    off += chunk;
  }
  if (!dev->Send(head)) {
    self->counters_.tx_dropped.Inc();
    return ERR_MEM;
  }
  self->counters_.tx_frames.Inc();
  return ERR_OK;
}

void DpdkNetif::SeedArp(const dpdk::LearnedNeighbor& nb) {
  pbuf* p = pbuf_alloc(PBUF_RAW, SIZEOF_ETH_HDR + SIZEOF_ETHARP_HDR, PBUF_RAM);
  if (p == nullptr) return;
  auto* eth = static_cast<eth_hdr*>(p->payload);
  std::memcpy(&eth->dest, netif_.hwaddr, ETH_HWADDR_LEN);
  std::memcpy(&eth->src, nb.mac.addr_bytes, ETH_HWADDR_LEN);
  eth->type = PP_HTONS(ETHTYPE_ARP);
  auto* arp = reinterpret_cast<etharp_hdr*>(eth + 1);
  arp->hwtype = PP_HTONS(1 /* IANA hardware type: Ethernet */);
  arp->proto = PP_HTONS(ETHTYPE_IP);
  arp->hwlen = ETH_HWADDR_LEN;
  arp->protolen = sizeof(ip4_addr_t);
  arp->opcode = PP_HTONS(ARP_REPLY);
  std::memcpy(&arp->shwaddr, nb.mac.addr_bytes, ETH_HWADDR_LEN);
  std::memcpy(&arp->sipaddr, &nb.ipv4_be, 4);
  std::memcpy(&arp->dhwaddr, netif_.hwaddr, ETH_HWADDR_LEN);
  const u32_t our = ip4_addr_get_u32(netif_ip4_addr(&netif_));
  std::memcpy(&arp->dipaddr, &our, 4);
  counters_.arp_seeded.Inc();
  if (netif_.input(p, &netif_) != ERR_OK) pbuf_free(p);
}

}  // namespace grpc_bypass
