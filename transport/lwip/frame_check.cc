#include "transport/lwip/frame_check.h"

namespace grpc_bypass {
namespace {
constexpr size_t kEth = 14, kArp = 28, kIp4 = 20, kIp6 = 40, kTcp = 20, kIcmp = 4;
uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The fixed part of the transport header lwIP reads first: TCP 20 bytes, ICMP 4.
size_t L4Min(uint8_t proto) { return proto == 6 ? kTcp : (proto == 1 || proto == 58) ? kIcmp : 0; }
}  // namespace

bool HeadersComplete(const uint8_t* f, size_t contiguous, size_t total) {
  if (contiguous > total || contiguous < kEth) return false;
  const uint8_t* l3 = f + kEth;
  const size_t have = contiguous - kEth, all = total - kEth;
  switch (Be16(f + 12)) {
    case 0x0806:  // ARP
      return have >= kArp;
    case 0x0800: {  // IPv4
      if (have < kIp4) return false;
      const size_t ihl = (l3[0] & 0x0f) * 4u;
      const size_t len = Be16(l3 + 2);
      if (ihl < kIp4 || ihl > have || len < ihl || len > all) return false;
      // A later fragment has no transport header; lwIP drops fragments after reading the
      // (complete) IPv4 header.
      if ((Be16(l3 + 6) & 0x1fff) != 0) return true;
      const size_t l4 = L4Min(l3[9]);
      return len - ihl >= l4 && ihl + l4 <= have;
    }
    case 0x86dd: {  // IPv6
      if (have < kIp6) return false;
      const size_t plen = Be16(l3 + 4);
      if (kIp6 + plen > all) return false;
      const size_t l4 = L4Min(l3[6]);
      return plen >= l4 && kIp6 + l4 <= have;
    }
    default:
      return true;
  }
}

}  // namespace grpc_bypass
