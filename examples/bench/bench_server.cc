// bench_server: the Bench service on [::]:--port, over the bypass when BYPASS_EAL is set
// (grpc_bypass::Enable()), on the kernel otherwise. Prints "bench_server listening on ..."
// when ready; SIGINT/SIGTERM: clean shutdown, then "bench_server: N unary calls ended with
// status OK".
#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/bench/bench_async_server.h"
#include "examples/bench/bench_service.h"
#include "examples/common/sample_main.h"

ABSL_FLAG(int, port, 50060, "port to listen on (all addresses)");
ABSL_FLAG(std::string, api, "sync",
          "sync (a thread per call), callback (reactors) or async (completion queues) for "
          "Unary and StreamPingPong");
ABSL_FLAG(int, async_threads, 1, "--api=async: completion queues, a thread each");
ABSL_FLAG(int64_t, resource_quota_bytes, 0,
          "ServerBuilder::SetResourceQuota with this many bytes (0: gRPC's default quota)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("bench_server");
  const std::string api = absl::GetFlag(FLAGS_api);
  if (api != "sync" && api != "callback" && api != "async") {
    std::fprintf(stderr, "bench_server: --api: '%s' is not sync, callback or async\n",
                 api.c_str());
    return 2;
  }
  if (const int t = absl::GetFlag(FLAGS_async_threads); t < 1 || t > 64) {
    std::fprintf(stderr, "bench_server: --async_threads: %d is not 1..64\n", t);
    return 2;
  }
  grpc_bypass::bench::BenchService sync_service;
  grpc_bypass::bench::CallbackBenchService callback_service;
  callback_service.set_api("callback");
  grpc_bypass::bench::AsyncBenchServer async_server(absl::GetFlag(FLAGS_async_threads));
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  grpc_bypass::examples::SampleMain::Hooks hooks;
  if (api == "sync") {
    builder.RegisterService(&sync_service);
  } else if (api == "callback") {
    builder.RegisterService(&callback_service);
  } else {
    async_server.Register(builder);
    hooks.started = [&] { async_server.Start(); };
    hooks.shut_down = [&] { async_server.Stop(); };
  }
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  grpc::ResourceQuota quota("bench_server");
  if (const int64_t q = absl::GetFlag(FLAGS_resource_quota_bytes); q > 0) {
    quota.Resize(static_cast<size_t>(q));
    builder.SetResourceQuota(quota);
  }
  const int rc = m.ServeUntilSignal(builder, addr, api == "sync" ? "" : " (" + api + " API)", hooks);
  std::printf("bench_server: %llu unary calls ended with status OK\n",
              static_cast<unsigned long long>(grpc_bypass::bench::UnaryOkCount()));
  return rc;
}
