// bench_server: the Bench service on [::]:--port, over the bypass when BYPASS_EAL is set
// (grpc_bypass::Enable()), on the kernel otherwise. Prints "bench_server listening on ..."
// when ready; SIGINT/SIGTERM: clean shutdown.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/bench/bench_service.h"
#include "transport/grpc/enable.h"

ABSL_FLAG(int, port, 50060, "port to listen on (all addresses)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  const bool bypass = std::getenv("BYPASS_EAL") != nullptr;
  if (bypass) {
    absl::Status st = grpc_bypass::Enable();
    if (!st.ok()) {
      std::fprintf(stderr, "bench_server: %s\n", std::string(st.message()).c_str());
      return 2;
    }
  }
  grpc_bypass::bench::BenchService service;
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "bench_server: cannot listen on %s\n", addr.c_str());
    return 1;
  }
  std::printf("bench_server listening on %s (%s)\n", addr.c_str(), bypass ? "bypass" : "kernel");
  std::fflush(stdout);
  std::thread([&server, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }).detach();
  server->Wait();
  return 0;
}
