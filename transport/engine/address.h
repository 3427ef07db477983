// Conversions between EventEngine addresses (sockaddr) and lwIP's, and the question "can
// this stack serve that address". Poll-thread free: pure functions.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_ADDRESS_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_ADDRESS_H

#include <grpc/event_engine/event_engine.h>

#include <string>

#include "absl/status/status.h"
#include "lwip/ip_addr.h"
#include "transport/lwip/config.h"

namespace grpc_bypass::engine {

using ResolvedAddress = grpc_event_engine::experimental::EventEngine::ResolvedAddress;

struct LwipAddress {
  ip_addr_t ip;
  uint16_t port;  // host order
  bool wildcard;  // 0.0.0.0 or ::
};

// IPv4, IPv6 and IPv4-mapped IPv6 (which becomes IPv4). InvalidArgument otherwise.
absl::Status ToLwip(const ResolvedAddress& addr, LwipAddress* out);
ResolvedAddress FromLwip(const ip_addr_t& ip, uint16_t port);
std::string ToString(const ResolvedAddress& addr);  // "1.2.3.4:80", "[fd00::1]:80"

// OK if a connection to `a` leaves through the bypass interface described by `c`: an IPv4
// address in BYPASS_IP's subnet (or any unicast one when BYPASS_GW is set), an IPv6 address
// in BYPASS_IP6's /64 or link-local. Otherwise InvalidArgument naming the address.
absl::Status CanConnect(const StackConfig& c, const LwipAddress& a);
// OK if a listener may bind `a`: a wildcard or one of the interface's own addresses.
absl::Status CanBind(const StackConfig& c, const LwipAddress& a);

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_ADDRESS_H
