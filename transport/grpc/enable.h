// Switches this process's gRPC (1.51, Debian's libgrpc) to the kernel bypass. Call once, at
// the start of main(), before any gRPC object exists:
//
//   int main() {
//     absl::Status st = grpc_bypass::Enable();  // reads BYPASS_* (see README)
//     if (!st.ok()) { fprintf(stderr, "%s\n", st.ToString().c_str()); return 2; }
//     ... the service as before: ServerBuilder, CreateChannel, stubs ...
//   }
//
// Addresses on the bypass interface (BYPASS_IP, BYPASS_IP6) go over DPDK; all others use
// the kernel, so one process can talk to both.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H

#include <string>

#include "absl/status/status.h"
#include "transport/lwip/config.h"

namespace grpc_bypass {

struct Options {
  StackConfig stack;
  // A server listening on a wildcard address also listens on the kernel (BYPASS_KERNEL_TOO=1).
  bool wildcard_also_on_kernel = false;
  // Print a one-line summary of the counters to stderr at exit (BYPASS_SUMMARY=0 disables).
  bool summary_at_exit = true;
};

// Options from BYPASS_* and --bypass_* (see StackConfigFromEnvironment).
absl::StatusOr<Options> OptionsFromEnvironment();

// FailedPrecondition if called twice, after gRPC was initialized, or with a gRPC runtime
// other than the one the bridge was built against; the stack's errors otherwise.
absl::Status Enable();
absl::Status Enable(const Options& options);

// One line: DPDK, lwIP and bridge counters (any thread, after Enable()).
std::string StatsSummary();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H
