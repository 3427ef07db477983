// The one configuration contract of grpc-bypass (every binary, and later the preload
// library): BYPASS_* environment variables, overridden by absl flags of the same names in
// lower case (--bypass_ip, ...).
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_CONFIG_H
#define GRPC_BYPASS_TRANSPORT_LWIP_CONFIG_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc_bypass {

struct Ipv4Prefix {
  uint32_t addr_be = 0;  // network byte order
  int prefix_len = 0;
  std::string ToString() const;  // "198.18.0.2/24"
};

struct Ipv6Prefix {
  uint8_t addr[16] = {0};
  int prefix_len = 64;
  std::string ToString() const;
};

// Idle behaviour of the threads that poll the ports (DESIGN.md, threading: spin, then block).
//  poll (default): a thread that finds no work keeps polling for `spin` (BYPASS_POLL_US,
//    default 1000 us, like
//    Onload's EF_POLL_USEC), then blocks: on the ports' RX interrupt fds where the PMD has
//    them (net_tap), else in sleeps that grow from 50 us to `sleep` (2 x `sleep` after a
//    second without work). Work posted by another
//    thread wakes it at once. With the gRPC bridge, gRPC's own pollers do the spinning.
//  spin: never blocks (for a core reserved for the poller, isolcpus).
// `backoff[:SPIN_US:SLEEP_US]` is `poll` with other times; `busy` (the old default, which
// yielded the core on every idle iteration) is read as `poll`.
struct IdleConfig {
  bool spin_forever = false;
  absl::Duration spin = absl::Microseconds(1000);
  absl::Duration sleep = absl::Microseconds(1000);
};

// Fault injection for tests (BYPASS_FAULTS="drop=0.05,reorder=0.02,seed=7,tx_limit=4"): each
// received frame is dropped with probability `drop`, or held back behind later frames with
// probability `reorder`, from a seeded generator (repeatable); the TX ring takes at most
// `tx_limit` frames per flush. Off by default.
struct FaultConfig {
  double drop = 0;
  double reorder = 0;
  uint64_t seed = 1;
  uint32_t tx_limit = 0;
};

struct StackConfig {
  std::string eal;                  // BYPASS_EAL
  Ipv4Prefix ip;                    // BYPASS_IP (required)
  std::optional<Ipv6Prefix> ip6;    // BYPASS_IP6
  std::optional<uint32_t> gw_be;    // BYPASS_GW
  std::vector<uint16_t> ports{0};   // BYPASS_PORTS ("0" or "0,1")
  uint16_t vlan = 0;                // BYPASS_VLAN (1..4094)
  uint16_t mtu = 1500;              // BYPASS_MTU (576..9000)
  IdleConfig idle;                  // BYPASS_IDLE, BYPASS_POLL_US
  uint32_t mbufs = 16384;           // BYPASS_MBUFS: mbufs per port beyond the rings
  uint16_t descriptors = 1024;      // BYPASS_DESCRIPTORS: RX and TX ring size (64..32768)
  bool offloads = true;             // BYPASS_OFFLOADS=0 forces software checksums
  FaultConfig faults;               // BYPASS_FAULTS (tests only)
};

// Parsers, each returning InvalidArgument with one line "NAME: 'value' is ... (expected ...)".
absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(const std::string& name, const std::string& v);
absl::StatusOr<Ipv6Prefix> ParseIpv6Prefix(const std::string& name, const std::string& v);
absl::StatusOr<uint32_t> ParseIpv4(const std::string& name, const std::string& v);
absl::StatusOr<std::vector<uint16_t>> ParsePorts(const std::string& name, const std::string& v);
absl::StatusOr<IdleConfig> ParseIdle(const std::string& name, const std::string& v);
absl::StatusOr<FaultConfig> ParseFaults(const std::string& name, const std::string& v);

// The BYPASS_* variables StackConfigFromEnvironment reads.
const std::vector<std::string>& StackConfigVariables();

// Reads BYPASS_* from the environment, then applies any --bypass_* flags that were set.
absl::StatusOr<StackConfig> StackConfigFromEnvironment();

// One-line description for logs: "ip 198.18.0.2/24 ports 0 mtu 1500 idle busy eal '...'".
std::string DescribeConfig(const StackConfig& c);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_CONFIG_H
