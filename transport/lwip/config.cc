#include "transport/lwip/config.h"

#include <arpa/inet.h>

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(std::string, bypass_eal, "", "DPDK EAL arguments (overrides BYPASS_EAL)");
ABSL_FLAG(std::string, bypass_ip, "", "IPv4 ADDR/PREFIX of the bypass interface (BYPASS_IP)");
ABSL_FLAG(std::string, bypass_ip6, "", "IPv6 ADDR/PREFIX (BYPASS_IP6)");
ABSL_FLAG(std::string, bypass_gw, "", "IPv4 gateway (BYPASS_GW)");
ABSL_FLAG(std::string, bypass_ports, "", "DPDK port ids, e.g. 0 or 0,1 (BYPASS_PORTS)");
ABSL_FLAG(std::string, bypass_vlan, "", "VLAN id 1..4094 (BYPASS_VLAN)");
ABSL_FLAG(std::string, bypass_mtu, "", "IP MTU 576..9000 (BYPASS_MTU)");
ABSL_FLAG(std::string, bypass_faults, "", "drop=P,reorder=P,seed=N,tx_limit=N: fault injection for tests (BYPASS_FAULTS)");
ABSL_FLAG(std::string, bypass_descriptors, "", "RX and TX ring size, 64..32768 (BYPASS_DESCRIPTORS)");
ABSL_FLAG(std::string, bypass_idle, "", "poll | spin | backoff[:SPIN_US:SLEEP_US] (BYPASS_IDLE)");
ABSL_FLAG(std::string, bypass_poll_us, "", "microseconds a poller spins before blocking (BYPASS_POLL_US)");
ABSL_FLAG(std::string, bypass_mbufs, "", "mbufs per port beyond the rings (BYPASS_MBUFS)");
ABSL_FLAG(std::string, bypass_offloads, "", "1 (default) or 0 (BYPASS_OFFLOADS)");

namespace grpc_bypass {
namespace {

absl::Status Bad(const std::string& name, const std::string& v, absl::string_view what,
                 absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": '", v, "' ", what, " (expected ", expected, ")"));
}

// Flag value if set, else the environment variable, else nullopt.
std::optional<std::string> Lookup(const std::string& env, const absl::Flag<std::string>& flag) {
  std::string f = absl::GetFlag(flag);
  if (!f.empty()) return f;
  const char* e = std::getenv(env.c_str());
  if (e != nullptr && *e != '\0') return std::string(e);
  return std::nullopt;
}

absl::StatusOr<uint32_t> ParseUint(const std::string& name, const std::string& v, uint32_t lo,
                                   uint32_t hi) {
  uint32_t n;
  if (!absl::SimpleAtoi(v, &n) || n < lo || n > hi) {
    return Bad(name, v, "is not a number in range", absl::StrCat(lo, "..", hi));
  }
  return n;
}

}  // namespace

const std::vector<std::string>& StackConfigVariables() {
  static const auto* names = new std::vector<std::string>{
      "BYPASS_EAL",   "BYPASS_IP",    "BYPASS_IP6",     "BYPASS_GW",
      "BYPASS_PORTS", "BYPASS_VLAN",  "BYPASS_MTU",     "BYPASS_IDLE",
      "BYPASS_POLL_US", "BYPASS_FAULTS", "BYPASS_DESCRIPTORS", "BYPASS_MBUFS",
      "BYPASS_OFFLOADS"};
  return *names;
}

std::string Ipv4Prefix::ToString() const {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr_be, buf, sizeof(buf));
  return absl::StrCat(buf, "/", prefix_len);
}

std::string Ipv6Prefix::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, addr, buf, sizeof(buf));
  return absl::StrCat(buf, "/", prefix_len);
}

absl::StatusOr<uint32_t> ParseIpv4(const std::string& name, const std::string& v) {
  in_addr a;
  if (inet_pton(AF_INET, v.c_str(), &a) != 1) {
    return Bad(name, v, "is not an IPv4 address", "e.g. 198.18.0.1");
  }
  return a.s_addr;
}

absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(const std::string& name, const std::string& v) {
  std::vector<std::string> parts = absl::StrSplit(v, '/');
  int len;
  in_addr a;
  if (parts.size() != 2 || inet_pton(AF_INET, parts[0].c_str(), &a) != 1 ||
      !absl::SimpleAtoi(parts[1], &len) || len < 1 || len > 32) {
    return Bad(name, v, "is not an IPv4 address/prefix", "ADDR/PREFIX, e.g. 198.18.0.2/24");
  }
  if (a.s_addr == 0 || a.s_addr == 0xffffffff || (ntohl(a.s_addr) >> 28) == 0xe) {
    return Bad(name, v, "is not a unicast address", "ADDR/PREFIX, e.g. 198.18.0.2/24");
  }
  return Ipv4Prefix{a.s_addr, len};
}

absl::StatusOr<Ipv6Prefix> ParseIpv6Prefix(const std::string& name, const std::string& v) {
  std::vector<std::string> parts = absl::StrSplit(v, '/');
  Ipv6Prefix p;
  if (parts.size() != 2 || inet_pton(AF_INET6, parts[0].c_str(), p.addr) != 1 ||
      !absl::SimpleAtoi(parts[1], &p.prefix_len) || p.prefix_len < 1 || p.prefix_len > 128) {
    return Bad(name, v, "is not an IPv6 address/prefix", "ADDR/PREFIX, e.g. fd00:77::2/64");
  }
  return p;
}

absl::StatusOr<std::vector<uint16_t>> ParsePorts(const std::string& name, const std::string& v) {
  std::vector<uint16_t> out;
  for (absl::string_view s : absl::StrSplit(v, ',')) {
    uint32_t n;
    if (!absl::SimpleAtoi(s, &n) || n > 65535) {
      return Bad(name, v, "is not a list of DPDK port ids", "e.g. 0 or 0,1");
    }
    out.push_back(static_cast<uint16_t>(n));
  }
  if (out.empty()) return Bad(name, v, "is empty", "e.g. 0 or 0,1");
  return out;
}

absl::StatusOr<IdleConfig> ParseIdle(const std::string& name, const std::string& v) {
  IdleConfig c;
  std::vector<std::string> parts = absl::StrSplit(v, ':');
  if ((parts[0] == "poll" || parts[0] == "busy") && parts.size() == 1) return c;
  if (parts[0] == "spin" && parts.size() == 1) {
    c.spin_forever = true;
    return c;
  }
  if (parts[0] == "backoff" && (parts.size() == 1 || parts.size() == 3)) {
    if (parts.size() == 3) {
      uint32_t spin, sleep;
      if (!absl::SimpleAtoi(parts[1], &spin) || !absl::SimpleAtoi(parts[2], &sleep) ||
          spin > 1000000 || sleep == 0 || sleep > 100000) {
        return Bad(name, v, "has bad backoff times",
                   "backoff:SPIN_US:SLEEP_US, spin 0..1000000, sleep 1..100000");
      }
      c.spin = absl::Microseconds(spin);
      c.sleep = absl::Microseconds(sleep);
    }
    return c;
  }
  return Bad(name, v, "is not an idle mode", "poll, spin, backoff or backoff:SPIN_US:SLEEP_US");
}

absl::StatusOr<FaultConfig> ParseFaults(const std::string& name, const std::string& v) {
  FaultConfig f;
  for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    double d = 0;
    if ((kv.first == "drop" || kv.first == "reorder") && absl::SimpleAtod(kv.second, &d) &&
        d >= 0 && d <= 0.5) {
      (kv.first == "drop" ? f.drop : f.reorder) = d;
    } else if (kv.first == "seed" && absl::SimpleAtoi(kv.second, &f.seed)) {
    } else if (kv.first == "tx_limit" && absl::SimpleAtoi(kv.second, &f.tx_limit) &&
               f.tx_limit >= 1) {
    } else {
      return Bad(name, v, "is not a fault list",
                 "drop=P,reorder=P,seed=N,tx_limit=N with probabilities 0..0.5, e.g. "
                 "drop=0.05,seed=7");
    }
  }
  return f;
}

absl::StatusOr<StackConfig> StackConfigFromEnvironment() {
  StackConfig c;
  if (auto v = Lookup("BYPASS_EAL", FLAGS_bypass_eal)) {
    c.eal = *v;
  } else {
    return absl::InvalidArgumentError(
        "BYPASS_EAL: not set (expected DPDK EAL arguments, e.g. '--no-huge -m 512 --no-pci "
        "--vdev=net_tap0,iface=bypass0')");
  }
  if (auto v = Lookup("BYPASS_IP", FLAGS_bypass_ip)) {
    absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix("BYPASS_IP", *v);
    if (!p.ok()) return p.status();
    c.ip = *p;
  } else {
    return absl::InvalidArgumentError("BYPASS_IP: not set (expected ADDR/PREFIX, e.g. 198.18.0.2/24)");
  }
  if (auto v = Lookup("BYPASS_IP6", FLAGS_bypass_ip6)) {
    absl::StatusOr<Ipv6Prefix> p = ParseIpv6Prefix("BYPASS_IP6", *v);
    if (!p.ok()) return p.status();
    c.ip6 = *p;
  }
  if (auto v = Lookup("BYPASS_GW", FLAGS_bypass_gw)) {
    absl::StatusOr<uint32_t> g = ParseIpv4("BYPASS_GW", *v);
    if (!g.ok()) return g.status();
    c.gw_be = *g;
  }
  if (auto v = Lookup("BYPASS_PORTS", FLAGS_bypass_ports)) {
    absl::StatusOr<std::vector<uint16_t>> p = ParsePorts("BYPASS_PORTS", *v);
    if (!p.ok()) return p.status();
    c.ports = *p;
  }
  if (auto v = Lookup("BYPASS_VLAN", FLAGS_bypass_vlan)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_VLAN", *v, 1, 4094);
    if (!n.ok()) return n.status();
    c.vlan = static_cast<uint16_t>(*n);
  }
  if (auto v = Lookup("BYPASS_MTU", FLAGS_bypass_mtu)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_MTU", *v, 576, 9000);
    if (!n.ok()) return n.status();
    c.mtu = static_cast<uint16_t>(*n);
  }
  if (auto v = Lookup("BYPASS_IDLE", FLAGS_bypass_idle)) {
    absl::StatusOr<IdleConfig> i = ParseIdle("BYPASS_IDLE", *v);
    if (!i.ok()) return i.status();
    c.idle = *i;
  }
  if (auto v = Lookup("BYPASS_POLL_US", FLAGS_bypass_poll_us)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_POLL_US", *v, 0, 1000000);
    if (!n.ok()) return n.status();
    c.idle.spin = absl::Microseconds(*n);
  }
  if (auto v = Lookup("BYPASS_FAULTS", FLAGS_bypass_faults)) {
    absl::StatusOr<FaultConfig> f = ParseFaults("BYPASS_FAULTS", *v);
    if (!f.ok()) return f.status();
    c.faults = *f;
  }
  if (auto v = Lookup("BYPASS_DESCRIPTORS", FLAGS_bypass_descriptors)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_DESCRIPTORS", *v, 64, 32768);
    if (!n.ok()) return n.status();
    c.descriptors = static_cast<uint16_t>(*n);
  }
  if (auto v = Lookup("BYPASS_MBUFS", FLAGS_bypass_mbufs)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_MBUFS", *v, 64, 4000000);
    if (!n.ok()) return n.status();
    c.mbufs = *n;
  }
  if (auto v = Lookup("BYPASS_OFFLOADS", FLAGS_bypass_offloads)) {
    absl::StatusOr<uint32_t> n = ParseUint("BYPASS_OFFLOADS", *v, 0, 1);
    if (!n.ok()) return n.status();
    c.offloads = *n == 1;
  }
  return c;
}

std::string DescribeConfig(const StackConfig& c) {
  std::string s = absl::StrCat("ip ", c.ip.ToString());
  if (c.ip6) absl::StrAppend(&s, " ip6 ", c.ip6->ToString());
  absl::StrAppend(&s, " ports ", absl::StrJoin(c.ports, ","), " mtu ", c.mtu);
  if (c.vlan) absl::StrAppend(&s, " vlan ", c.vlan);
  absl::StrAppend(&s, " idle ",
                  c.idle.spin_forever
                      ? std::string("spin")
                      : absl::StrCat("poll ", absl::ToInt64Microseconds(c.idle.spin),
                                     " us, then block (sleeps up to ",
                                     absl::ToInt64Microseconds(c.idle.sleep), " us)"));
  absl::StrAppend(&s, " eal '", c.eal, "'");
  return s;
}

}  // namespace grpc_bypass
