// The check every received frame passes before lwIP sees it: lwIP (2.1.3, and 2.2.1 still)
// reads some header fields before it checks that the frame holds them (ip4_input reads the IPv4 total length
// of a 2-byte IP packet; found by tests/fuzz). A frame whose headers are not complete in its
// first contiguous bytes is dropped and counted as a runt (NetifCounters::rx_runts).
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_FRAME_CHECK_H
#define GRPC_BYPASS_TRANSPORT_LWIP_FRAME_CHECK_H

#include <cstddef>
#include <cstdint>

namespace grpc_bypass {

// `frame` starts with the Ethernet header (VLAN tags already removed); `contiguous` bytes
// are readable there, `total` is the whole frame (a chained mbuf may hold more). True if the
// Ethernet header and, for ARP, IPv4 and IPv6, the network header (IPv4: IHL >= 5, the
// header within `contiguous`, total length between the header length and the frame) and
// the fixed part of a TCP or ICMP header are present. Other ethertypes: Ethernet only.
bool HeadersComplete(const uint8_t* frame, size_t contiguous, size_t total);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_FRAME_CHECK_H
