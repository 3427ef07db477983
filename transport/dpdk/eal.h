// DPDK's Environment Abstraction Layer, started once per process.
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_EAL_H
#define GRPC_BYPASS_TRANSPORT_DPDK_EAL_H

#include <string>

#include "absl/status/status.h"

namespace grpc_bypass::dpdk {

// Starts EAL with `args` (as on a command line, split on whitespace; the program name is
// added). The first successful call starts EAL; later calls with the same args return OK,
// with other args FailedPrecondition (EAL cannot be restarted in one process). Errors are one
// line and name the cause (for example hugepages asked for but missing).
absl::Status StartEal(const std::string& args);

// True once StartEal has succeeded.
bool EalStarted();

}  // namespace grpc_bypass::dpdk

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_EAL_H
