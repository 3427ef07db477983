// Which EventEngine interface the gRPC we compile against has, from gRPC's own version macros.
// Each switch was read from the release tags' include/grpc/event_engine/event_engine.h and
// src/core/lib/event_engine/default_event_engine_factory.h (1.53 ... 1.76; README, "gRPC
// versions"); the engine, the routing engine and Enable() are built and tested against 1.51
// (the host) and 1.83 (the modern root) by tools/test, and were compiled and run by hand
// against 1.60, 1.68 and 1.76. 1.76 -> 1.83 changed no pure virtual of the interface.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_GRPC_FEATURES_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_GRPC_FEATURES_H

#include <grpcpp/version_info.h>

#define GRPC_BYPASS_GRPC_AT_LEAST(minor) \
  (GRPC_CPP_VERSION_MAJOR > 1 || (GRPC_CPP_VERSION_MAJOR == 1 && GRPC_CPP_VERSION_MINOR >= (minor)))

// 1.54: Endpoint::Read/Write return bool: true = done at once, and the callback never runs.
#define GRPC_BYPASS_EE_IO_RETURNS_BOOL GRPC_BYPASS_GRPC_AT_LEAST(54)
// 1.57: GetDNSResolver returns StatusOr; lookups return void and cannot be cancelled.
#define GRPC_BYPASS_EE_DNS_STATUSOR GRPC_BYPASS_GRPC_AT_LEAST(57)
// 1.60: TCP (listeners; clients with the event_engine_client experiment until 1.67) goes
// through the EventEngine that gRPC's factory makes, instead of iomgr.
#define GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE GRPC_BYPASS_GRPC_AT_LEAST(60)
// 1.68: clients too by default on Linux (1.60-1.67 need GRPC_EXPERIMENTS=event_engine_client).
#define GRPC_BYPASS_EE_CLIENT_BY_DEFAULT GRPC_BYPASS_GRPC_AT_LEAST(68)
// 1.71: SetDefaultEventEngine exists, and SetEventEngineFactory takes a shared_ptr factory.
#define GRPC_BYPASS_EE_SET_DEFAULT GRPC_BYPASS_GRPC_AT_LEAST(71)
// 1.73: Read/Write take ReadArgs/WriteArgs by value (before: const pointer).
#define GRPC_BYPASS_EE_ARGS_BY_VALUE GRPC_BYPASS_GRPC_AT_LEAST(73)
// 1.74: Endpoint::GetTelemetryInfo() is pure virtual.
#define GRPC_BYPASS_EE_TELEMETRY GRPC_BYPASS_GRPC_AT_LEAST(74)

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_GRPC_FEATURES_H
