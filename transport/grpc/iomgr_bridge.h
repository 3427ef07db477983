// The gRPC 1.51 iomgr bridge: grpc_tcp_client_vtable, grpc_tcp_server_vtable and
// grpc_endpoint over the lwIP EventEngine. The only code that knows gRPC 1.51 internals.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H

#include <cstdint>

namespace grpc_bypass {
namespace engine {
class EngineCore;
}  // namespace engine

struct BridgeOptions {
  // Wildcard listens ("0.0.0.0:P", "[::]:P") also on the kernel (BYPASS_KERNEL_TOO=1).
  bool wildcard_also_on_kernel = false;
};

// Installs the vtables (after the first grpc_init has fixed the iomgr platform). Addresses
// the bypass interface serves go to `core`'s engine; all others to gRPC's posix vtables.
void InstallIomgrBridge(engine::EngineCore* core, const BridgeOptions& options);

struct BridgeStats {
  uint64_t bypass_connects, kernel_connects, bypass_listeners, kernel_listeners;
  uint64_t bypass_accepts, bypass_endpoints_open;
};
BridgeStats GetBridgeStats();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_IOMGR_BRIDGE_H
