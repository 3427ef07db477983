#include "transport/grpc/version_check.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "grpc_source_version.h"

namespace grpc_bypass {

absl::string_view CompiledGrpcCoreVersion() { return GRPC_BYPASS_SOURCE_CORE_VERSION; }
absl::string_view CompiledGrpcCppVersion() { return GRPC_BYPASS_SOURCE_CPP_VERSION; }

absl::Status CheckGrpcVersions(absl::string_view runtime_core, absl::string_view runtime_cpp) {
  if (runtime_core == CompiledGrpcCoreVersion() && runtime_cpp == CompiledGrpcCppVersion()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "grpc-bypass: gRPC version mismatch: built against gRPC ", CompiledGrpcCppVersion(),
      " (core ", CompiledGrpcCoreVersion(), ") but the process runs gRPC ", runtime_cpp,
      " (core ", runtime_core, "); rebuild grpc-bypass against the installed gRPC"));
}

absl::Status CheckGrpcRuntimeVersion() {
  return CheckGrpcVersions(grpc_version_string(), grpc::Version());
}

}  // namespace grpc_bypass
