#include "transport/engine/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace grpc_bypass::engine {

absl::Status ToLwip(const ResolvedAddress& addr, LwipAddress* out) {
  const sockaddr* sa = addr.address();
  if (sa->sa_family == AF_INET && addr.size() >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    IP_ADDR4(&out->ip, 0, 0, 0, 0);
    ip4_addr_set_u32(ip_2_ip4(&out->ip), in->sin_addr.s_addr);
    out->port = ntohs(in->sin_port);
    out->wildcard = in->sin_addr.s_addr == INADDR_ANY;
    return absl::OkStatus();
  }
  if (sa->sa_family == AF_INET6 && addr.size() >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out->port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      uint32_t v4;
      std::memcpy(&v4, in6->sin6_addr.s6_addr + 12, 4);
      IP_ADDR4(&out->ip, 0, 0, 0, 0);
      ip4_addr_set_u32(ip_2_ip4(&out->ip), v4);
      out->wildcard = v4 == INADDR_ANY;
      return absl::OkStatus();
    }
    IP_ADDR6(&out->ip, 0, 0, 0, 0);
    std::memcpy(ip_2_ip6(&out->ip)->addr, in6->sin6_addr.s6_addr, 16);
    ip6_addr_clear_zone(ip_2_ip6(&out->ip));
    out->wildcard = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("address family ", sa->sa_family, " is not IPv4 or IPv6"));
}

ResolvedAddress FromLwip(const ip_addr_t& ip, uint16_t port) {
  if (IP_IS_V4(&ip)) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&ip));
    return ResolvedAddress(reinterpret_cast<sockaddr*>(&in), sizeof(in));
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  std::memcpy(in6.sin6_addr.s6_addr, ip_2_ip6(&ip)->addr, 16);
  return ResolvedAddress(reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
}

std::string ToString(const ResolvedAddress& addr) {
  char buf[INET6_ADDRSTRLEN] = "?";
  const sockaddr* sa = addr.address();
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", ntohs(in6->sin6_port));
  }
  return absl::StrCat("(family ", sa->sa_family, ")");
}

namespace {

std::string IpString(const ip_addr_t& ip) {
  char buf[IPADDR_STRLEN_MAX];
  ipaddr_ntoa_r(&ip, buf, sizeof(buf));
  return buf;
}

bool SameIpv4Subnet(const StackConfig& c, uint32_t a_be) {
  const uint32_t mask = c.ip.prefix_len == 0 ? 0 : htonl(~0u << (32 - c.ip.prefix_len));
  return (a_be & mask) == (c.ip.addr_be & mask);
}

}  // namespace

absl::Status CanConnect(const StackConfig& c, const LwipAddress& a) {
  if (a.wildcard || a.port == 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot connect to ", IpString(a.ip), " port ", a.port));
  }
  if (IP_IS_V4(&a.ip)) {
    const uint32_t v = ip4_addr_get_u32(ip_2_ip4(&a.ip));
    const uint32_t h = ntohl(v);
    const bool unicast = (h >> 24) != 127 && (h >> 28) != 0xe && v != 0xffffffff;
    // Our own address too: lwIP loops it back (LWIP_NETIF_LOOPBACK).
    if (unicast && (SameIpv4Subnet(c, v) || c.gw_be.has_value())) {
      return absl::OkStatus();
    }
  } else {
    const ip6_addr_t* v6 = ip_2_ip6(&a.ip);
    if (ip6_addr_islinklocal(v6)) return absl::OkStatus();
    if (c.ip6 && !ip6_addr_isloopback(v6) && !ip6_addr_ismulticast(v6) &&
        std::memcmp(v6->addr, c.ip6->addr, 8) == 0) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "address ", IpString(a.ip), " is not reachable through the bypass interface (",
      c.ip.ToString(), c.ip6 ? absl::StrCat(", ", c.ip6->ToString()) : std::string(), ")"));
}

absl::Status CanBind(const StackConfig& c, const LwipAddress& a) {
  if (a.wildcard) return absl::OkStatus();
  if (IP_IS_V4(&a.ip) && ip4_addr_get_u32(ip_2_ip4(&a.ip)) == c.ip.addr_be) return absl::OkStatus();
  if (IP_IS_V6(&a.ip) && c.ip6 && std::memcmp(ip_2_ip6(&a.ip)->addr, c.ip6->addr, 16) == 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "address ", IpString(a.ip), " is not an address of the bypass interface (",
      c.ip.ToString(), c.ip6 ? absl::StrCat(", ", c.ip6->ToString()) : std::string(), ")"));
}

}  // namespace grpc_bypass::engine
