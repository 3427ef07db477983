// A poll context's view of the NIC: one RX/TX queue on each of its ports, bursts of 64,
// batched TX with a bounded retry backlog, VLAN strip/insert (offload or software), checksum
// offload preparation, MAC learning, frame injection and per-port statistics.
//
// Threading: one thread at a time uses a Device, the one that owns it for the moment (the
// stack's token holder, transport/lwip/token.h; this layer does not know the token). The
// exceptions are InjectFrame() (any thread) and the statistics getters (any thread; counters
// have one writer at a time).
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_DEVICE_H
#define GRPC_BYPASS_TRANSPORT_DPDK_DEVICE_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "transport/dpdk/counter.h"
#include "transport/dpdk/port.h"

namespace grpc_bypass::dpdk {

inline constexpr uint16_t kBurst = 64;

struct DeviceConfig {
  std::vector<Port*> ports;  // not owned; at least one; all started
  uint16_t queue = 0;        // this context's RX/TX queue index on every port
  uint16_t vlan = 0;         // 0: untagged
  // -1: answer each peer on the port its frames arrive on (multi-port, e.g. an LACP bond);
  // otherwise the index (into `ports`) of the port used for all TX.
  int tx_port_index = -1;
  // mbufs that tx_burst did not take are retried next flush; beyond this many per port they
  // are dropped (and counted). lwIP retransmits what is dropped.
  size_t tx_backlog_limit = 2048;
  // Re-report a learned neighbour this often (must be below lwIP's ARP entry lifetime).
  double relearn_seconds = 30.0;
  // Fault injection on RX, for tests: drop, or hold back behind a later frame, this fraction
  // of received frames (seeded, repeatable). 0: off.
  double fault_drop = 0;
  double fault_reorder = 0;
  uint64_t fault_seed = 1;
  // A TX ring that takes at most this many frames per flush (the rest wait in the backlog,
  // counted as tx_retries). 0: off.
  size_t fault_tx_limit = 0;
};

// An IPv4 sender seen on RX (for seeding the ARP table; SR-IOV VFs may drop broadcast ARP).
struct LearnedNeighbor {
  rte_ether_addr mac;
  uint32_t ipv4_be;  // network byte order
  uint16_t port_index;
};

struct PortQueueStats {
  uint16_t port_id;
  uint16_t queue;
  uint64_t rx_packets, rx_bytes, rx_drops, rx_bad_cksum, rx_vlan_drops, rx_nombuf;
  uint64_t tx_packets, tx_bytes, tx_retries, tx_drops, tx_nombuf, tx_backlog;
  uint64_t injected, inject_drops, mac_learned;
  uint64_t fault_drops, fault_reorders;  // fault injection (DeviceConfig::fault_*)
  uint32_t mempool_in_use, mempool_size, mempool_in_caches;
};

class Device {
 public:
  explicit Device(DeviceConfig config);
  ~Device();  // frees the TX backlog and injected frames not yet received

  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // ---- RX (its owner) -------------------------------------------------------------
  // One rx_burst on each port (plus injected frames first). Frames come out untagged, with
  // bad checksums (when the NIC checks) and VLAN mismatches dropped and counted.
  // m->port is set to the index of the arrival port in config().ports.
  // Checksums: when offloads().rx_ipv4_cksum/rx_tcp_cksum are set, every frame handed out has
  // been verified (by the NIC, or here in software when the NIC did not say) and the layer
  // above may skip its checks; otherwise the layer above must check them.
  uint16_t Receive(rte_mbuf** out, uint16_t max);

  // ---- TX (its owner) -------------------------------------------------------------
  // An mbuf for a frame from the first port's pool, or nullptr when the pool is exhausted
  // (counted as tx_nombuf; the caller reports ERR_MEM upward: back-pressure, not abort).
  rte_mbuf* AllocTx();
  // Takes ownership of a complete untagged Ethernet frame. When offloads().tx_ipv4_cksum /
  // tx_tcp_cksum are set, the layer above leaves those checksums zero and this prepares the
  // NIC to fill them (pseudo-header checksum, l2/l3 lengths, flags). Inserts the VLAN tag,
  // picks the port and queues the frame. Returns false if it was dropped (backlog full).
  bool Send(rte_mbuf* m);
  // One flush: tx_burst of everything queued, per port. Returns frames sent.
  uint32_t FlushTx();
  size_t TxBacklog() const;

  // ---- injection (any thread) --------------------------------------------------------
  // Pushes a raw Ethernet frame into the RX path as if it arrived on the first port.
  void InjectFrame(absl::Span<const uint8_t> frame) ABSL_LOCKS_EXCLUDED(inject_mu_);

  // ---- MAC learning (its owner) ----------------------------------------------------
  // IPv4 senders seen since the last call (each again every relearn_seconds).
  std::vector<LearnedNeighbor> TakeLearnedNeighbors();

  // ---- state --------------------------------------------------------------------------
  const DeviceConfig& config() const { return config_; }
  Port* primary() const { return config_.ports[0]; }
  // Offloads common to all ports (checksums are offloaded only if every port can).
  const Offloads& offloads() const { return common_; }
  bool LinkUp() const;  // any port up (asks the PMDs)
  // Re-reads every port's link state (the poll loop calls it every 100 ms). FlushTx skips
  // ports whose link is down: their frames wait in the (bounded) backlog.
  bool RefreshLinkState();
  std::vector<PortQueueStats> Stats() const;  // any thread

 private:
  struct PerPort {
    Port* port;
    std::vector<rte_mbuf*> backlog;  // queued for tx_burst, oldest first
    bool link_up = true;
    Counter rx_packets, rx_bytes, rx_drops, rx_bad_cksum, rx_vlan_drops;
    Counter tx_packets, tx_bytes, tx_retries, tx_drops, tx_nombuf, tx_backlog;
    Counter injected, inject_drops, mac_learned;
    Counter fault_drops, fault_reorders;
  };
  struct Neighbor {
    rte_ether_addr mac;
    uint16_t port_index;
    uint64_t last_report_tsc;
  };

  // Returns false if the frame must be dropped (counted already).
  bool ProcessRx(rte_mbuf* m, uint16_t port_index, bool injected);
  // Fault injection over out[0, n): returns the new count (its owner).
  uint16_t InjectFaults(rte_mbuf** out, uint16_t n, uint16_t max);
  double NextUniform();  // [0, 1) from the seeded generator
  void Learn(const rte_mbuf* m, uint16_t port_index);
  uint16_t TxPortFor(const rte_mbuf* m) const;
  void PrepareChecksumOffload(rte_mbuf* m);

  DeviceConfig config_;
  Offloads common_;
  std::vector<std::unique_ptr<PerPort>> ports_;
  uint64_t relearn_tsc_ = 0;

  // Its owner only.
  uint64_t fault_state_;              // xorshift64* state
  rte_mbuf* held_back_ = nullptr;     // a frame being reordered (delivered after later ones)
  absl::flat_hash_map<uint32_t, Neighbor> neighbors_;        // IPv4 (BE) -> neighbour
  absl::flat_hash_map<uint64_t, uint16_t> mac_to_port_;      // MAC -> arrival port index
  std::vector<LearnedNeighbor> learned_;

  absl::Mutex inject_mu_;
  std::deque<std::string> injected_ ABSL_GUARDED_BY(inject_mu_);
  std::atomic<bool> has_injected_{false};  // lets Receive() skip the lock when none are queued
};

}  // namespace grpc_bypass::dpdk

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_DEVICE_H
