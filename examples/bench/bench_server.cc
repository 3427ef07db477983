// bench_server: the Bench service on [::]:--port, over the bypass when BYPASS_EAL is set
// (grpc_bypass::Enable()), on the kernel otherwise. Prints "bench_server listening on ..."
// when ready; SIGINT/SIGTERM: clean shutdown.
#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/bench/bench_service.h"
#include "examples/common/sample_main.h"

ABSL_FLAG(int, port, 50060, "port to listen on (all addresses)");
ABSL_FLAG(int64_t, resource_quota_bytes, 0,
          "ServerBuilder::SetResourceQuota with this many bytes (0: gRPC's default quota)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("bench_server");
  grpc_bypass::bench::BenchService service;
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  grpc::ResourceQuota quota("bench_server");
  if (const int64_t q = absl::GetFlag(FLAGS_resource_quota_bytes); q > 0) {
    quota.Resize(static_cast<size_t>(q));
    builder.SetResourceQuota(quota);
  }
  return m.ServeUntilSignal(builder, addr);
}
