// greeter_client: calls a greeter COUNT times over the bypass and checks every reply.
//
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.2/24 greeter_client 198.18.0.1:50051 100
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "greeter.grpc.pb.h"
#include "transport/grpc/enable.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: greeter_client HOST:PORT [COUNT]\n");
    return 2;
  }
  if (absl::Status st = grpc_bypass::Enable(); !st.ok()) {
    std::fprintf(stderr, "greeter_client: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  const int count = argc > 2 ? std::atoi(argv[2]) : 100;
  auto stub = consumer::Greeter::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    consumer::HelloRequest req;
    req.set_name("consumer " + std::to_string(i));
    consumer::HelloReply reply;
    grpc::Status st = stub->SayHello(&ctx, req, &reply);
    if (!st.ok() || reply.message() != "Hello " + req.name()) {
      std::fprintf(stderr, "greeter_client: call %d: %s '%s'\n", i, st.error_message().c_str(),
                   reply.message().c_str());
      return 1;
    }
  }
  std::printf("greeter_client: %d calls answered\n", count);
  return 0;
}
