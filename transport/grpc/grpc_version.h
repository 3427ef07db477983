// Which way TCP reaches an EventEngine in the gRPC this is built against.
//   gRPC < 1.60 (Debian 12 ships 1.51.1): chttp2 uses iomgr's grpc_tcp_client/server vtables,
//     so the bypass is installed as an iomgr bridge (iomgr_bridge.cc).
//   gRPC >= 1.60: TCP goes through the EventEngine that the default factory makes, so the
//     bypass is installed with SetEventEngineFactory as a RoutingEventEngine
//     (routing_engine.h). Only 1.51 can be built on this platform; that path is written against
//     the 1.60 interface and its routing is tested here through the 1.51 interface.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H
#define GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H

#include <grpcpp/version_info.h>

#if GRPC_CPP_VERSION_MAJOR > 1 || (GRPC_CPP_VERSION_MAJOR == 1 && GRPC_CPP_VERSION_MINOR >= 60)
#define GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE 1
#else
#define GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE 0
#endif

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H
