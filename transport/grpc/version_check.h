// The gRPC runtime must be the version whose source headers the bridge was compiled against:
// the 1.51 iomgr bridge uses internal structures whose layout changes between releases.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_VERSION_CHECK_H
#define GRPC_BYPASS_TRANSPORT_GRPC_VERSION_CHECK_H

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace grpc_bypass {

// The versions of the gRPC source package the headers came from (core, C++).
absl::string_view CompiledGrpcCoreVersion();
absl::string_view CompiledGrpcCppVersion();

// Compares the given runtime versions with the compiled-against ones. OK if both match;
// FailedPrecondition with one line naming both versions otherwise.
absl::Status CheckGrpcVersions(absl::string_view runtime_core, absl::string_view runtime_cpp);

// Same, with the versions of the libgrpc/libgrpc++ loaded in this process.
absl::Status CheckGrpcRuntimeVersion();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_VERSION_CHECK_H
