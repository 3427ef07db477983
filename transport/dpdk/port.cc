#include "transport/dpdk/port.h"

#include "transport/dpdk/dpdk_features.h"
#include "transport/dpdk/eal.h"

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace grpc_bypass::dpdk {
namespace {

constexpr uint32_t kMbufCache = 256;
constexpr uint16_t kL2Overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN;
constexpr uint16_t kDefaultDataRoom = RTE_MBUF_DEFAULT_BUF_SIZE;  // 2048 + headroom

// The value of `key` in a port's --vdev arguments, read with DPDK's own parser (as the PMD
// reads them), or nullopt.
std::optional<std::string> DevArg(const rte_device* dev, const char* key) {
  const rte_devargs* da = dev != nullptr ? rte_dev_devargs(dev) : nullptr;
  if (da == nullptr || da->args == nullptr) return std::nullopt;
  rte_kvargs* kv = rte_kvargs_parse(da->args, nullptr);
  if (kv == nullptr) return std::nullopt;
  const char* v = rte_kvargs_get(kv, key);
  std::optional<std::string> out;
  if (v != nullptr) out = v;
  rte_kvargs_free(kv);
  return out;
}

// A net_memif port's buffer size: `bsize` (parsed as memif does: strtoul, base 10) or 2048.
uint32_t MemifBufferSize(const rte_device* dev) {
  const std::optional<std::string> v = DevArg(dev, "bsize");
  return v ? static_cast<uint32_t>(std::strtoul(v->c_str(), nullptr, 10)) : 2048;
}

// Whether a net_memif port runs in zero-copy mode (memif looks for "yes" in the value).
bool MemifZeroCopy(const rte_device* dev) {
  const std::optional<std::string> v = DevArg(dev, "zero-copy");
  return v && v->find("yes") != std::string::npos;
}

}  // namespace

std::string Port::DescribeAllPorts() {
  std::vector<std::string> names;
  uint16_t pid;
  RTE_ETH_FOREACH_DEV(pid) {
    char name[RTE_ETH_NAME_MAX_LEN] = {0};
    rte_eth_dev_get_name_by_port(pid, name);
    names.push_back(absl::StrCat(pid, " ", name));
  }
  if (names.empty()) return "no DPDK ports exist (check --vdev/-a in BYPASS_EAL)";
  return absl::StrCat(names.size(), " ports: ", absl::StrJoin(names, ", "));
}

absl::StatusOr<std::unique_ptr<Port>> Port::Open(const PortConfig& config) {
  if (!rte_eth_dev_is_valid_port(config.port_id)) {
    return absl::NotFoundError(absl::StrCat("DPDK port ", config.port_id,
                                            " does not exist (", DescribeAllPorts(), ")"));
  }
  std::unique_ptr<Port> port(new Port(config));
  absl::Status st = port->Init();
  if (!st.ok()) return st;
  return port;
}

absl::Status Port::Error(absl::string_view what, int rc) const {
  return absl::InternalError(absl::StrCat("DPDK port ", config_.port_id, " (", name_, "): ",
                                          what, ": ", rte_strerror(-rc)));
}

absl::Status Port::Init() {
  const uint16_t pid = config_.port_id;
  char name[RTE_ETH_NAME_MAX_LEN] = {0};
  rte_eth_dev_get_name_by_port(pid, name);
  name_ = name;
  rte_eth_dev_info info;
  if (const int rc = rte_eth_dev_info_get(pid, &info); rc != 0) {
    return Error("cannot read device info", rc);
  }
  if (config_.rx_queues == 0 || config_.tx_queues == 0 ||
      config_.rx_queues > info.max_rx_queues || config_.tx_queues > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DPDK port ", pid, " (", name_, "): asked for ", config_.rx_queues, " RX / ",
        config_.tx_queues, " TX queues, the port has at most ", info.max_rx_queues, " / ",
        info.max_tx_queues));
  }
  absl::StatusOr<FrameLimits> limits = CheckFrameLimits(info);
  if (!limits.ok()) return limits.status();
  uint16_t data_room = kDefaultDataRoom;
  rte_eth_conf conf = ChooseOffloads(info, *limits, &data_room);
  if (absl::Status st = CreatePool(data_room); !st.ok()) return st;
  if (absl::Status st = ConfigureAndStart(info, conf); !st.ok()) return st;
  if (conf.intr_conf.rxq) OpenRxInterrupts();
  if (std::string_view(info.driver_name) == "net_tap") TakeOverTapSignal();
  if (offloads_.vlan_filter) {
    if (rte_eth_dev_vlan_filter(pid, config_.vlan, 1) != 0) offloads_.vlan_filter = false;
  }
  // Unicast to our MAC is what we need; promiscuous mode is not required. Multicast for
  // IPv6 neighbour discovery: accept all multicast where the port supports it.
  rte_eth_allmulticast_enable(pid);
  WaitForLink(config_.link_timeout);  // a memif link comes up only when its peer connects
  return absl::OkStatus();
}

absl::StatusOr<Port::FrameLimits> Port::CheckFrameLimits(const rte_eth_dev_info& info) const {
  const uint16_t pid = config_.port_id;
  // DPDK 22.11's net_memif reports 1518-byte frames at most (a constant in memif_dev_info),
  // but its rings chain descriptors (MEMIF_DESC_FLAG_NEXT) in both directions and its RX
  // builds mbuf chains, so larger frames pass between two memif ends, as they do in VPP.
  // There the ethdev keeps its own limit and only our stack uses the larger MTU; both ends
  // must set the same BYPASS_MTU (TCP's MSS option takes the smaller one anyway).
  const uint32_t l2 = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + (config_.vlan ? RTE_VLAN_HLEN : 0);
  const bool chained_jumbo = std::string_view(info.driver_name) == "net_memif" &&
                             config_.mtu + l2 > info.max_rx_pktlen &&
                             (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
  const uint32_t ethdev_mtu = chained_jumbo ? info.max_rx_pktlen - l2 : config_.mtu;
  if (chained_jumbo) {
    // One frame must fit one memif buffer: 22.11's memif TX does not clear the chain flag
    // of a packet's first descriptor, so after a frame that spanned several buffers a
    // later one-buffer frame can be glued to the next (seen as calls stalled to their
    // deadline). bsize (default 2048) is the buffer size.
    const uint32_t bsize = MemifBufferSize(info.device);
    if (bsize < config_.mtu + l2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DPDK port ", pid, " (", name_, "): MTU ", config_.mtu, " on net_memif needs bsize=",
          config_.mtu + l2, " or more in its --vdev arguments (it has ", bsize,
          "), on both ends"));
    }
  }
  if (config_.mtu < 576 || config_.mtu > 9000 || ethdev_mtu > info.max_mtu) {
    return absl::InvalidArgumentError(
        absl::StrCat("DPDK port ", pid, " (", name_, "): MTU ", config_.mtu,
                     " is out of range (576..", std::min<uint32_t>(9000, info.max_mtu), ")"));
  }

  const uint32_t needed_frame = ethdev_mtu + l2;
  if (needed_frame > info.max_rx_pktlen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DPDK port ", pid, " (", name_, "): MTU ", config_.mtu, " needs ", needed_frame,
        "-byte frames, the port takes at most ", info.max_rx_pktlen,
        " (BYPASS_MTU too large for this PMD)"));
  }

  return FrameLimits{ethdev_mtu, chained_jumbo};
}

rte_eth_conf Port::ChooseOffloads(const rte_eth_dev_info& info, const FrameLimits& limits,
                                  uint16_t* data_room) {
  // ---- offloads: use what the port has, when allowed -------------------------------
  const uint64_t txc = config_.use_offloads ? info.tx_offload_capa : 0;
  const uint64_t rxc = config_.use_offloads ? info.rx_offload_capa : 0;
  offloads_.tx_ipv4_cksum = txc & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  offloads_.tx_tcp_cksum = txc & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if (GRPC_BYPASS_DPDK_TAP_TX_CKSUM_BREAKS_RETRY && std::string_view(info.driver_name) == "net_tap") {
    // dpdk_features.h: lwIP computes the checksums instead (the same work in software, no
    // extra mbuf), and the frames go out without a copy.
    offloads_.tx_ipv4_cksum = false;
    offloads_.tx_tcp_cksum = false;
  }
  offloads_.rx_ipv4_cksum = rxc & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  offloads_.rx_tcp_cksum = rxc & RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  offloads_.tso = txc & RTE_ETH_TX_OFFLOAD_TCP_TSO;
  offloads_.multi_seg_tx = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  {
    const std::string_view drv(info.driver_name);
    const bool memif_zc = drv == "net_memif" && MemifZeroCopy(info.device);
    offloads_.tx_copies = (drv == "net_memif" && !memif_zc) || drv == "net_tap" ||
                          drv == "net_af_packet";
    offloads_.tx_syscall_per_frame = drv == "net_tap";
  }
  offloads_.vlan_insert = config_.vlan != 0 && (txc & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
  offloads_.vlan_strip = config_.vlan != 0 && (rxc & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
  offloads_.vlan_filter = config_.vlan != 0 && (rxc & RTE_ETH_RX_OFFLOAD_VLAN_FILTER);

  rte_eth_conf conf{};
  if (offloads_.tx_ipv4_cksum) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  if (offloads_.tx_tcp_cksum) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if (offloads_.multi_seg_tx) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (offloads_.vlan_insert) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
  if (offloads_.rx_ipv4_cksum) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  if (offloads_.rx_tcp_cksum) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  if (offloads_.vlan_strip) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
  if (offloads_.vlan_filter) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_FILTER;

  // ---- MTU and buffer size: jumbo frames use scattered RX when the port can ------
  const uint32_t frame_len = config_.mtu + kL2Overhead;
  if (limits.chained_jumbo) {
    offloads_.scatter_rx = true;  // memif chains mbufs itself; not an ethdev offload there
  } else if (frame_len > uint32_t{*data_room} - RTE_PKTMBUF_HEADROOM) {
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
      offloads_.scatter_rx = true;
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    } else {
      *data_room = static_cast<uint16_t>(frame_len + RTE_PKTMBUF_HEADROOM);
    }
  }
  conf.rxmode.mtu = limits.ethdev_mtu;

  // ---- RSS over IP addresses and TCP ports ------------------------------------------
  if (config_.rx_queues > 1) {
    offloads_.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
    if (offloads_.rss_hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = offloads_.rss_hf;
    }
  }

  return conf;
}

absl::Status Port::CreatePool(uint16_t data_room) {
  const uint16_t pid = config_.port_id;
  // ---- mempool: queues x descriptors + in flight -----------------------------------
  // A PMD that copies on TX (offloads_.tx_copies: net_tap, memif without zero copy,
  // af_packet) frees every mbuf inside rte_eth_tx_burst, so its TX ring never holds one;
  // only a ring that keeps mbufs until the NIC is done with them needs its descriptors.
  const uint32_t tx_held =
      offloads_.tx_copies ? 0 : static_cast<uint32_t>(config_.tx_queues) * config_.tx_desc;
  pool_size_ = static_cast<uint32_t>(config_.rx_queues) * config_.rx_desc + tx_held +
               config_.mbufs_in_flight;
  // Unique per Open (a port re-opened in one process gets a new pool; see ~Port).
  static std::atomic<uint32_t> pool_seq{0};
  const std::string pool_name = absl::StrCat("bypass_p", pid, "_", pool_seq++);
  const uint16_t priv = RTE_ALIGN_CEIL(config_.mbuf_priv_size, RTE_MBUF_PRIV_ALIGN);
  // Per-lcore caches: up to kMaxCachedThreads threads that take the stack's token are lcores
  // (eal.h: on gRPC >= 1.60 the executor's idle pollers, gRPC's threads running reads and
  // writes inline, the threads freeing RX slices), and each keeps up to 1.5 x cache mbufs
  // after it stops polling. With pool / 4 a few idle threads held a small pool whole (seen:
  // 184 of 192 mbufs free, all in five other threads' caches, the common pool empty), so the
  // poller's net_memif RX, which allocates 32 at once, received nothing and TX had no mbufs,
  // for a minute. So all caches together hold at most a quarter of the pool
  // (kMaxCachedThreads x 1.5 x cache <= pool / 4), and small pools have none.
  uint32_t cache = std::min<uint32_t>(kMbufCache, pool_size_ / (6 * kMaxCachedThreads));
  if (cache < 8) cache = 0;
  pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), pool_size_, cache, priv, data_room,
                                  rte_eth_dev_socket_id(pid));
  if (pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "DPDK port ", pid, " (", name_, "): cannot create a mempool of ", pool_size_,
        " mbufs: ", rte_strerror(rte_errno), " (give EAL more memory with -m)"));
  }

  return absl::OkStatus();
}

absl::Status Port::ConfigureAndStart(const rte_eth_dev_info& info, rte_eth_conf& conf) {
  const uint16_t pid = config_.port_id;
  // RX interrupts, so that an idle poller can block until a frame arrives (RxInterruptFd).
  // PMDs without them ignore the request or refuse it; then the port is configured without.
  conf.intr_conf.rxq = 1;
  int rc = rte_eth_dev_configure(pid, config_.rx_queues, config_.tx_queues, &conf);
  if (rc != 0) {
    conf.intr_conf.rxq = 0;
    rc = rte_eth_dev_configure(pid, config_.rx_queues, config_.tx_queues, &conf);
  }
  if (rc != 0) return Error("configure failed", rc);
  uint16_t nb_rx = config_.rx_desc, nb_tx = config_.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rx, &nb_tx);
  if (rc != 0) return Error("descriptor counts rejected", rc);
  const int socket = rte_eth_dev_socket_id(pid);
  for (uint16_t q = 0; q < config_.rx_queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(pid, q, nb_rx, socket, &rxconf, pool_);
    if (rc != 0) return Error(absl::StrCat("RX queue ", q, " setup failed"), rc);
  }
  for (uint16_t q = 0; q < config_.tx_queues; ++q) {
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(pid, q, nb_tx, socket, &txconf);
    if (rc != 0) return Error(absl::StrCat("TX queue ", q, " setup failed"), rc);
  }
  SizeTapQueue(info, nb_rx);
  rc = rte_eth_macaddr_get(pid, &mac_);
  if (rc != 0) return Error("cannot read MAC address", rc);
  rc = rte_eth_dev_start(pid);
  if (rc != 0) return Error("start failed", rc);
  started_ = true;
  return absl::OkStatus();
}

void Port::SizeTapQueue(const rte_eth_dev_info& info, uint16_t nb_rx) {
  if (std::string_view(info.driver_name) != "net_tap" || info.if_index == 0) return;
  ifreq ifr{};
  if (if_indextoname(info.if_index, ifr.ifr_name) == nullptr) return;
  ifr.ifr_qlen = nb_rx;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ioctl(fd, SIOCSIFTXQLEN, &ifr) != 0) {
    std::fprintf(stderr,
                 "grpc-bypass: port %u (%s): cannot set %s's queue to %u frames (%s); it "
                 "keeps the kernel's\n",
                 config_.port_id, name_.c_str(), ifr.ifr_name, nb_rx, std::strerror(errno));
  }
  if (fd >= 0) close(fd);
}

void Port::TakeOverTapSignal() {
  // The queue fds are the RX interrupt fds; each raises F_GETSIG's signal per frame.
  if (rx_intr_fds_.empty()) return;
  const int sig = fcntl(rx_intr_fds_[0], F_GETSIG);
  struct sigaction sa {};
  if (sig <= 0 || sigaction(sig, nullptr, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) != 0 ||
      sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) {
    return;  // not the layout this expects: the signal stays on
  }
  rx_kick_ = sa.sa_handler;
  rx_kick_signal_ = sig;
  for (const int fd : rx_intr_fds_) {
    const int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_ASYNC);
  }
}

void Port::OpenRxInterrupts() {
  const uint16_t pid = config_.port_id;
  // Asking a PMD without RX interrupts logs an error line; its absence is normal here.
  const int ethdev_log = rte_log_register("lib.ethdev");
  const int saved_level = ethdev_log >= 0 ? rte_log_get_level(ethdev_log) : -1;
  if (ethdev_log >= 0) rte_log_set_level(ethdev_log, RTE_LOG_CRIT);
  for (uint16_t q = 0; q < config_.rx_queues; ++q) {
    const int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(pid, q);
    if (fd < 0) {
      rx_intr_fds_.clear();
      break;
    }
    rx_intr_fds_.push_back(fd);
  }
  if (saved_level >= 0) rte_log_set_level(ethdev_log, static_cast<uint32_t>(saved_level));
}

Port::~Port() {
  if (started_) {
    rte_eth_dev_stop(config_.port_id);
  }
  // Free the pool only when every mbuf came back: a stopped device may still hold mbufs in
  // its RX ring until it is closed, and those must stay valid.
  if (pool_ != nullptr && rte_mempool_full(pool_)) rte_mempool_free(pool_);
}

bool Port::LinkUp() const {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(config_.port_id, &link) != 0) return false;
  return link.link_status == RTE_ETH_LINK_UP;
}

bool Port::WaitForLink(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (!LinkUp()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void Port::ArmRxInterrupts(bool on) {
  if (rx_intr_fds_.empty()) return;
  for (uint16_t q = 0; q < config_.rx_queues; ++q) {
    // -ENOTSUP (net_tap: its queue fd is always armed) is fine.
    if (on) {
      rte_eth_dev_rx_intr_enable(config_.port_id, q);
    } else {
      rte_eth_dev_rx_intr_disable(config_.port_id, q);
    }
  }
}

uint32_t Port::MbufsInUse() const { return rte_mempool_in_use_count(pool_); }

// The caches' lengths are written by their owner threads without a lock; this sum is an
// approximate gauge, read for stats only, so ThreadSanitizer is told not to watch it (DPDK's
// own rte_mempool_avail_count does the same reads, uninstrumented).
ABSL_ATTRIBUTE_NO_SANITIZE_THREAD uint32_t Port::MbufsInCaches() const {
  if (pool_->cache_size == 0) return 0;
  uint32_t n = 0;
  for (unsigned lcore = 0; lcore < RTE_MAX_LCORE; ++lcore) n += pool_->local_cache[lcore].len;
  return n;
}

uint64_t Port::RxNoMbuf() const {
  rte_eth_stats st{};
  rte_eth_stats_get(config_.port_id, &st);
  return st.rx_nombuf;
}

std::vector<std::pair<std::string, uint64_t>> Port::XStats() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  int n = rte_eth_xstats_get_names(config_.port_id, nullptr, 0);
  if (n <= 0) return out;
  std::vector<rte_eth_xstat_name> names(n);
  std::vector<rte_eth_xstat> values(n);
  if (rte_eth_xstats_get_names(config_.port_id, names.data(), n) != n) return out;
  int got = rte_eth_xstats_get(config_.port_id, values.data(), n);
  for (int i = 0; i < got && i < n; ++i) {
    if (values[i].id < static_cast<uint64_t>(n)) {
      out.emplace_back(names[values[i].id].name, values[i].value);
    }
  }
  return out;
}

}  // namespace grpc_bypass::dpdk
