// greeter_server: gRPC's helloworld Greeter, unchanged except for one call at the top of
// main(): grpc_bypass::Enable() when BYPASS_EAL (or --bypass_eal) is set, so the same binary
// serves over the kernel bypass or over the kernel.
//
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.2/24 greeter_server --port=50051

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "proto/helloworld.grpc.pb.h"
#include "examples/common/sample_main.h"

ABSL_FLAG(int, port, 50051, "port to listen on (all addresses)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");

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
  absl::ParseCommandLine(argc, argv);
  // SIGINT/SIGTERM shut the server down cleanly (then the bypass prints its summary at exit).
  grpc_bypass::examples::SampleMain m("greeter_server");
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
  return m.ServeUntilSignal(builder, addr, absl::GetFlag(FLAGS_tls_cert).empty() ? "" : " with TLS");
}
