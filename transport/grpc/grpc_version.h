// Which way TCP reaches an EventEngine in the gRPC this is built against.
//   gRPC < 1.60 (Debian 12 ships 1.51.1): chttp2 uses iomgr's grpc_tcp_client/server vtables,
//     so the bypass is installed as an iomgr bridge (iomgr_bridge.cc).
//   gRPC >= 1.60: TCP goes through the EventEngine (listeners from 1.60, clients by default
//     from 1.68, with the event_engine_client experiment before), so the bypass is installed as
//     a RoutingEventEngine (routing_engine.h): SetDefaultEventEngine from 1.71, the factory
//     before. The switches are in transport/engine/grpc_features.h.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H
#define GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H

#include "transport/engine/grpc_features.h"

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_GRPC_VERSION_H
