#include "transport/lwip/frame_check.h"

#include "lwip/prot/etharp.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/tcp.h"

namespace grpc_bypass {
namespace {
constexpr size_t kEth = SIZEOF_ETH_HDR;
uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The fixed part of the transport header lwIP reads first: TCP 20 bytes, ICMP 4.
size_t L4Min(uint8_t proto) {
  switch (proto) {
    case IP_PROTO_TCP: return TCP_HLEN;
    case IP_PROTO_ICMP:
    case IP6_NEXTH_ICMP6: return 4;  // type, code, checksum
    default: return 0;
  }
}
}  // namespace

bool HeadersComplete(const uint8_t* f, size_t contiguous, size_t total) {
  if (contiguous > total || contiguous < kEth) return false;
  const uint8_t* l3 = f + kEth;
  const size_t have = contiguous - kEth, all = total - kEth;
  switch (Be16(f + 12)) {
    case ETHTYPE_ARP:
      return have >= SIZEOF_ETHARP_HDR;
    case ETHTYPE_IP: {
      if (have < IP_HLEN) return false;
      const size_t ihl = (l3[0] & 0x0f) * 4u;
      const size_t len = Be16(l3 + 2);
      if (ihl < IP_HLEN || ihl > have || len < ihl || len > all) return false;
      // A later fragment has no transport header; lwIP drops fragments after reading the
      // (complete) IPv4 header.
      if ((Be16(l3 + 6) & IP_OFFMASK) != 0) return true;
      const size_t l4 = L4Min(l3[9]);
      return len - ihl >= l4 && ihl + l4 <= have;
    }
    case ETHTYPE_IPV6: {
      if (have < IP6_HLEN) return false;
      const size_t plen = Be16(l3 + 4);
      if (IP6_HLEN + plen > all) return false;
      const size_t l4 = L4Min(l3[6]);
      return plen >= l4 && IP6_HLEN + l4 <= have;
    }
    default:
      return true;
  }
}

}  // namespace grpc_bypass
