// plain_greeter_server: gRPC's helloworld Greeter server with nothing of grpc-bypass in it
// (it links only libgrpc++ and the generated code). The preload test runs it over the bypass
// with LD_PRELOAD=libgrpc_bypass_preload.so.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "proto/helloworld.grpc.pb.h"

class GreeterImpl final : public helloworld::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const helloworld::HelloRequest* req,
                        helloworld::HelloReply* reply) override {
    reply->set_message("Hello " + req->name());
    return grpc::Status::OK;
  }
};

int main(int argc, char** argv) {
  const std::string addr = std::string("[::]:") + (argc > 1 ? argv[1] : "50051");
  GreeterImpl service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::printf("plain_greeter_server listening on %s\n", addr.c_str());
  std::fflush(stdout);
  server->Wait();
  return 0;
}
