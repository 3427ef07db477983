// greeter_server: gRPC's helloworld Greeter, unchanged except for one call at the top of
// main(): grpc_bypass::Enable() when BYPASS_EAL (or --bypass_eal) is set, so the same binary
// serves over the kernel bypass or over the kernel.
//
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.2/24 greeter_server --port=50051
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/flags/parse.h"
#include "proto/helloworld.grpc.pb.h"
#include "transport/grpc/enable.h"

ABSL_FLAG(int, port, 50051, "port to listen on (all addresses)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_DECLARE_FLAG(std::string, bypass_eal);

namespace {
class GreeterImpl final : public helloworld::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const helloworld::HelloRequest* req,
                        helloworld::HelloReply* reply) override {
    reply->set_message("Hello " + req->name());
    return grpc::Status::OK;
  }
};
}  // namespace

int main(int argc, char** argv) {
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler({});  // a crash prints its stack
  absl::ParseCommandLine(argc, argv);
  // SIGINT/SIGTERM shut the server down cleanly (then the bypass prints its summary at exit).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  const bool bypass = std::getenv("BYPASS_EAL") != nullptr || !absl::GetFlag(FLAGS_bypass_eal).empty();
  if (bypass) {
    absl::Status st = grpc_bypass::Enable();
    if (!st.ok()) {
      std::fprintf(stderr, "greeter_server: %s\n", std::string(st.message()).c_str());
      return 2;
    }
  }
  GreeterImpl service;
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    auto slurp = [](const std::string& path) {
      std::ifstream f(path);
      return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    };
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {slurp(absl::GetFlag(FLAGS_tls_key)), slurp(absl::GetFlag(FLAGS_tls_cert))});
    if (ssl.pem_key_cert_pairs[0].private_key.empty() || ssl.pem_key_cert_pairs[0].cert_chain.empty()) {
      std::fprintf(stderr, "greeter_server: cannot read --tls_cert/--tls_key\n");
      return 2;
    }
    creds = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(addr, creds);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(16 << 20);
  builder.SetMaxSendMessageSize(16 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "greeter_server: cannot listen on %s\n", addr.c_str());
    return 1;
  }
  std::printf("greeter_server listening on %s%s%s\n", addr.c_str(), bypass ? " (bypass)" : " (kernel)",
              absl::GetFlag(FLAGS_tls_cert).empty() ? "" : " with TLS");
  std::fflush(stdout);
  std::thread([&server, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }).detach();
  server->Wait();
  std::printf("greeter_server: shut down\n");
  std::fflush(stdout);
  return 0;
}
