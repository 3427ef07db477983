// The lwIP network interface over a dpdk::Device (zero-copy RX; TX copies into mbufs, or,
// on PMDs that copy frames out themselves, hands them the pbuf's memory).
// Token holder only (transport/lwip/token.h), except the counters (any thread).
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_NETIF_H
#define GRPC_BYPASS_TRANSPORT_LWIP_NETIF_H

#include <memory>

#include "absl/status/statusor.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "transport/dpdk/counter.h"
#include "transport/dpdk/device.h"
#include "transport/lwip/config.h"

namespace grpc_bypass {

// Received frames reach lwIP without a copy: each mbuf segment carries, in its private area,
// a pbuf_custom that refers to the segment's data; freeing the pbuf frees the segment.
struct RxPbuf {
  pbuf_custom pc;  // first: lwIP hands &pc.pbuf back to the free function
  rte_mbuf* mbuf;
};
// The private area of every mbuf: `rx` for a received segment; `tx` for a frame sent
// without a copy (LinkOutput), whose data is the pbuf's own memory.
struct MbufPriv {
  RxPbuf rx;  // first: rte_mbuf_to_priv() is also read as an RxPbuf*
  rte_mbuf_ext_shared_info tx;
};
// The mbuf private area every port's mempool must have (dpdk::PortConfig::mbuf_priv_size).
inline constexpr uint16_t kMbufPrivSize = sizeof(MbufPriv);

struct NetifCounters {
  Counter rx_frames, rx_runts, rx_input_errors;
  Counter tx_frames, tx_nomem, tx_dropped;
  Counter tx_zero_copy;  // frames handed to the PMD as the pbuf's own memory (no copy)
  Counter arp_seeded;
};

class DpdkNetif {
 public:
  // Token holder, after lwip_init(). Adds and brings up the interface with cfg's addresses.
  static absl::StatusOr<std::unique_ptr<DpdkNetif>> Create(dpdk::Device* device,
                                                           const StackConfig& cfg);
  ~DpdkNetif();  // removes the interface from lwIP

  DpdkNetif(const DpdkNetif&) = delete;
  DpdkNetif& operator=(const DpdkNetif&) = delete;

  // Hands a received frame to lwIP; takes ownership of `m`.
  void Input(rte_mbuf* m);
  // Teaches lwIP's ARP table a neighbour seen on RX (a crafted ARP reply to us, so the entry
  // is an ordinary dynamic one that lwIP refreshes and expires).
  void SeedArp(const dpdk::LearnedNeighbor& n);
  // Follows the device's link state (lwIP sends a gratuitous ARP when the link comes up).
  void SetLinkUp(bool up);

  netif* raw() { return &netif_; }
  const NetifCounters& counters() const { return counters_; }

 private:
  DpdkNetif(dpdk::Device* device, const StackConfig& cfg) : device_(device), cfg_(cfg) {}
  static err_t InitFn(netif* n);
  static err_t LinkOutput(netif* n, pbuf* p);
  static void FreeRxPbuf(pbuf* p);
  static void FreeTxPbuf(void* addr, void* opaque);
  // A frame as an mbuf over the pbuf's own memory (see dpdk::Offloads::tx_copies).
  rte_mbuf* AttachTx(pbuf* p);

  dpdk::Device* device_;
  StackConfig cfg_;
  bool tx_without_copy_ = false;  // LinkOutput may use AttachTx (set once in InitFn)
  netif netif_{};
  bool added_ = false;
  NetifCounters counters_;
};

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_NETIF_H
