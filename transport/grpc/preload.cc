// libgrpc_bypass_preload.so: LD_PRELOAD it into an unmodified, already-built gRPC C++ program
// (linked against Debian's libgrpc 1.51) to run it over the bypass, configured by BYPASS_*:
//
//   LD_PRELOAD=bazel-bin/transport/grpc/libgrpc_bypass_preload.so
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.2/24 ./my_grpc_server
//
// The constructor runs before main() (after libgrpc's own initialisers) and calls
// grpc_bypass::Enable(). A configuration error ends the program with one line and exit 2:
// running silently over the kernel instead would hide the mistake.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "transport/grpc/enable.h"

namespace {

__attribute__((constructor)) void GrpcBypassPreload() {
  if (std::getenv("BYPASS_EAL") == nullptr) {
    std::fprintf(stderr, "grpc-bypass preload: BYPASS_EAL is not set; the bypass is off\n");
    return;
  }
  absl::Status st = grpc_bypass::Enable();
  if (!st.ok()) {
    std::fprintf(stderr, "grpc-bypass preload: %s\n", std::string(st.message()).c_str());
    std::exit(2);
  }
}

}  // namespace
