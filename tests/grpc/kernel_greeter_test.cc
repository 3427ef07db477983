// A service generated from proto/ answers an RPC over the kernel TCP path, in one process.
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "proto/helloworld.grpc.pb.h"

namespace {

class GreeterImpl final : public helloworld::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const helloworld::HelloRequest* req,
                        helloworld::HelloReply* reply) override {
    reply->set_message("Hello " + req->name());
    return grpc::Status::OK;
  }
};

TEST(KernelGreeter, UnaryRpcOverLoopbackGetsReply) {
  GreeterImpl service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = helloworld::Greeter::NewStub(channel);
  helloworld::HelloRequest req;
  req.set_name("kernel");
  helloworld::HelloReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status st = stub->SayHello(&ctx, req, &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.message(), "Hello kernel");
  server->Shutdown();
}

TEST(KernelGreeter, CallToClosedPortFailsUnavailable) {
  // Bind and close to find a port nobody listens on.
  int port = 0;
  {
    GreeterImpl service;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);
    server->Shutdown();
  }
  auto stub = helloworld::Greeter::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  helloworld::HelloRequest req;
  helloworld::HelloReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::Status st = stub->SayHello(&ctx, req, &reply);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(st.error_code() == grpc::StatusCode::UNAVAILABLE ||
              st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      << st.error_code();
}

}  // namespace
