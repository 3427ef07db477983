// One DPDK ethdev port: configuration, offload detection, RSS, MTU, its mempool, link state.
// Knows DPDK only. A Port is set up and started by Open() on any thread before polling begins;
// afterwards its queues belong to poll contexts (Device), and the accessors here are read-only.
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_PORT_H
#define GRPC_BYPASS_TRANSPORT_DPDK_PORT_H

// Not <rte_ethdev.h>: it pulls in <netinet/ip6.h>, whose struct ip6_hdr clashes with lwIP's in
// the layer above. port.cc includes it.
#include <rte_ether.h>
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct rte_eth_conf;  // rte_ethdev.h (port.cc)
struct rte_eth_dev_info;

namespace grpc_bypass::dpdk {

struct PortConfig {
  uint16_t port_id = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t mtu = 1500;  // IP MTU, up to 9000 (jumbo; scattered RX where the port needs it)
  uint16_t vlan = 0;    // 0: untagged. Otherwise strip/filter on RX and insert on TX.
  // mbufs beyond those the descriptor rings hold: frames the stack keeps (receive queues,
  // out-of-order segments) and TX frames in flight. The pool has
  // rx_queues*rx_desc + tx_queues*tx_desc + mbufs_in_flight mbufs (no tx_desc term on a
  // PMD that copies on TX: its ring holds no mbuf).
  uint32_t mbufs_in_flight = 16384;
  // Per-mbuf private area for the layer above (lwIP keeps its pbuf_custom there).
  uint16_t mbuf_priv_size = 0;
  // If false, every checksum is done in software even if the port could offload it.
  bool use_offloads = true;
  absl::Duration link_timeout = absl::Seconds(3);
};

// What the port does in hardware (after intersecting with what we asked for).
struct Offloads {
  bool tx_ipv4_cksum = false;
  bool tx_tcp_cksum = false;
  bool rx_ipv4_cksum = false;
  bool rx_tcp_cksum = false;
  bool vlan_insert = false;
  bool vlan_strip = false;
  bool vlan_filter = false;
  bool tso = false;          // reported to the layer above; not used by lwIP 2.1
  bool multi_seg_tx = false;
  bool scatter_rx = false;
  // The PMD copies every frame out before tx_burst returns (net_memif without zero-copy,
  // net_tap, net_af_packet), so a TX mbuf may point at memory the caller owns (an external
  // buffer) and is freed inside the same tx_burst call or a later one, on the caller's
  // thread. Not for NICs (they DMA from the buffer later; it needs an IOVA) or net_ring
  // (it hands the mbuf itself to the other end).
  bool tx_copies = false;
  // Every TX frame is a system call (net_tap: one writev into the kernel, which also runs
  // the receiving socket's TCP input on this core): a frame costs microseconds, so fewer,
  // larger segments pay for a short wait (Stack::Batch around a thread's drain).
  bool tx_syscall_per_frame = false;
  uint64_t rss_hf = 0;       // RSS hash functions in use (0: no RSS)
};

class Port {
 public:
  // Configures and starts the port. Errors are one line naming the port and the cause.
  static absl::StatusOr<std::unique_ptr<Port>> Open(const PortConfig& config);
  ~Port();  // stops the port; its mempool is freed

  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  uint16_t id() const { return config_.port_id; }
  const std::string& name() const { return name_; }
  const PortConfig& config() const { return config_; }
  const Offloads& offloads() const { return offloads_; }
  rte_mempool* pool() const { return pool_; }
  const rte_ether_addr& mac() const { return mac_; }
  uint16_t mtu() const { return config_.mtu; }
  uint32_t pool_size() const { return pool_size_; }

  // Link state now (does not wait).
  bool LinkUp() const;
  // Waits up to `timeout` for the link; returns whether it is up.
  bool WaitForLink(absl::Duration timeout) const;
  // mbufs of this port's pool currently allocated (in rings, in the stack, in flight).
  uint32_t MbufsInUse() const;
  // mbufs free but held in the per-lcore caches (not usable by another lcore until the
  // owner frees past its flush threshold or exits); counted as free by MbufsInUse().
  uint32_t MbufsInCaches() const;
  // The PMD's extended statistics, passed through.
  std::vector<std::pair<std::string, uint64_t>> XStats() const;
  // RX refill failures counted by the PMD (the pool was exhausted): rte_eth_stats.rx_nombuf.
  uint64_t RxNoMbuf() const;

  // RX interrupt fds, one per RX queue, readable when frames wait (epoll/ppoll them for
  // POLLIN; never read them). Empty when the PMD has no RX interrupts (net_memif, net_ring,
  // net_af_packet in DPDK 22.11); net_tap has them. Arm before blocking, disarm after.
  const std::vector<int>& RxInterruptFds() const { return rx_intr_fds_; }
  void ArmRxInterrupts(bool on);  // the thread that polls the port

  // Call before each rx_burst (the thread that polls the port). net_tap's rx_burst reads its
  // queue only after the real-time signal its fd raises for every frame (F_SETSIG) bumped
  // the PMD's trigger; a signal per frame wakes a sleeping thread and preempts the one that
  // runs gRPC. On net_tap the port turns that signal off (O_ASYNC) and this calls the PMD's
  // handler instead; elsewhere it does nothing.
  void KickRx() const {
    if (rx_kick_ != nullptr) rx_kick_(rx_kick_signal_);
  }

  // Names of all ports, for error messages ("0 net_tap0, 1 net_memif0").
  static std::string DescribeAllPorts();

 private:
  explicit Port(const PortConfig& config) : config_(config) {}
  // Init's steps, in order.
  absl::Status Init();
  struct FrameLimits {
    uint32_t ethdev_mtu;  // the MTU the ethdev is configured with
    bool chained_jumbo;   // net_memif: larger frames as descriptor chains (see port.cc)
  };
  absl::StatusOr<FrameLimits> CheckFrameLimits(const rte_eth_dev_info& info) const;
  // Sets offloads_ and returns the ethdev configuration; may raise *data_room (jumbo frames).
  rte_eth_conf ChooseOffloads(const rte_eth_dev_info& info, const FrameLimits& limits,
                              uint16_t* data_room);
  absl::Status CreatePool(uint16_t data_room);
  absl::Status ConfigureAndStart(const rte_eth_dev_info& info, rte_eth_conf& conf);
  void OpenRxInterrupts();  // rx_intr_fds_, where the PMD has them
  // net_tap's RX ring is the kernel interface's queue (its txqueuelen, 1000 by default), not
  // the descriptors asked for: sets that queue to nb_rx frames. One line on stderr if the
  // kernel refuses (no CAP_NET_ADMIN); the port keeps working with the kernel's queue.
  void SizeTapQueue(const rte_eth_dev_info& info, uint16_t nb_rx);
  void TakeOverTapSignal();  // rx_kick_: see KickRx
  absl::Status Error(absl::string_view what, int rc) const;  // one line, with rte_strerror

  PortConfig config_;
  std::string name_;
  Offloads offloads_;
  rte_mempool* pool_ = nullptr;
  uint32_t pool_size_ = 0;
  rte_ether_addr mac_{};
  bool started_ = false;
  std::vector<int> rx_intr_fds_;
  void (*rx_kick_)(int) = nullptr;  // net_tap's RX signal handler, called by KickRx
  int rx_kick_signal_ = 0;
};

}  // namespace grpc_bypass::dpdk

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_PORT_H
