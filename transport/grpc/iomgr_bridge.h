// The gRPC 1.51 iomgr bridge: grpc_tcp_client_vtable, grpc_tcp_server_vtable and
// grpc_endpoint over the lwIP EventEngine. The only code that knows gRPC 1.51 internals.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H

#include <cstdint>

namespace grpc_bypass {
namespace engine {
class EngineCore;
}  // namespace engine

// Installs the vtables (after the first grpc_init has fixed the iomgr platform). Addresses
// the core's Router sends to the bypass go to `core`'s engine; all others to gRPC's posix
// vtables. (Routing counters: core->router().counters().)
void InstallIomgrBridge(engine::EngineCore* core);

// What the bridge of this gRPC version (this one, or the routing engine's) counts itself.
struct BridgeStats {
  uint64_t bypass_endpoints_open;
};
BridgeStats GetBridgeStats();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H
