// greeter_server: a consumer's gRPC service. One call at the top of main() puts it on the
// bypass (configured by BYPASS_*); everything after is plain gRPC.
//
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.1/24 greeter_server 50051
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "greeter.grpc.pb.h"
#include "transport/grpc/enable.h"

namespace {
class Greeter final : public consumer::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const consumer::HelloRequest* req,
                        consumer::HelloReply* reply) override {
    reply->set_message("Hello " + req->name());
    return grpc::Status::OK;
  }
};
}  // namespace

int main(int argc, char** argv) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread exists
  if (absl::Status st = grpc_bypass::Enable(); !st.ok()) {
    std::fprintf(stderr, "greeter_server: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  const std::string addr = std::string("0.0.0.0:") + (argc > 1 ? argv[1] : "50051");
  Greeter service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "greeter_server: cannot listen on %s\n", addr.c_str());
    return 1;
  }
  std::printf("greeter_server listening on %s\n", addr.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
