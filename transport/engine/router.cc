#include "transport/engine/router.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace grpc_bypass::engine {

absl::Status Router::CanConnect(const ResolvedAddress& addr) const {
  LwipAddress a;
  absl::Status st = ToLwip(addr, &a);
  return st.ok() ? engine::CanConnect(config_, a) : st;
}

absl::Status Router::CanBind(const ResolvedAddress& addr) const {
  LwipAddress a;
  absl::Status st = ToLwip(addr, &a);
  return st.ok() ? engine::CanBind(config_, a) : st;
}

bool Router::RouteConnect(const ResolvedAddress& addr) {
  const bool bypass = CanConnect(addr).ok();
  (bypass ? bypass_connects_ : kernel_connects_).fetch_add(1, std::memory_order_relaxed);
  return bypass;
}

Router::BindRoute Router::RouteBind(const ResolvedAddress& addr) {
  LwipAddress a;
  const bool lwip_addr = ToLwip(addr, &a).ok();
  BindRoute r;
  r.bypass = lwip_addr && engine::CanBind(config_, a).ok();
  r.kernel = !r.bypass || (a.wildcard && kernel_too_.load(std::memory_order_relaxed));
  if (r.bypass) bypass_binds_.fetch_add(1, std::memory_order_relaxed);
  if (r.kernel) kernel_binds_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

Router::ResolvedAddress Router::KernelTwin(const ResolvedAddress& addr, int bypass_port) {
  sockaddr_storage ss{};
  std::memcpy(&ss, addr.address(), addr.size());
  const uint16_t nport = htons(static_cast<uint16_t>(bypass_port));
  if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (in6->sin6_port == 0) in6->sin6_port = nport;
  } else if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    if (in->sin_port == 0) in->sin_port = nport;
  }
  return ResolvedAddress(reinterpret_cast<const sockaddr*>(&ss), addr.size());
}

RoutingCounters Router::counters() const {
  return RoutingCounters{bypass_connects_.load(std::memory_order_relaxed),
                         kernel_connects_.load(std::memory_order_relaxed),
                         bypass_binds_.load(std::memory_order_relaxed),
                         kernel_binds_.load(std::memory_order_relaxed),
                         bypass_accepts_.load(std::memory_order_relaxed)};
}

}  // namespace grpc_bypass::engine
