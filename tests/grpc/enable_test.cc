// grpc_bypass::Enable(): its contract (twice; bad configuration: enable_bad_config_test) and the kernel fallback, in
// one process on a net_ring port (no namespace needed: nothing is sent on the bypass here).
#include "transport/grpc/enable.h"

#include <arpa/inet.h>

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "proto/helloworld.grpc.pb.h"
#include "transport/engine/engine_core.h"
#include "transport/grpc/iomgr_bridge.h"

namespace {

grpc_bypass::Options RingOptions() {
  grpc_bypass::Options o;
  o.stack.eal = "--no-huge -m 256 --no-pci --no-shconf --no-telemetry --file-prefix=enable_test "
                "--vdev=net_ring0 --log-level=lib.eal:error";
  o.stack.ip.addr_be = htonl(0xc6120002);  // 198.18.0.2/24
  o.stack.ip.prefix_len = 24;
  o.summary_at_exit = false;
  return o;
}

class GreeterImpl final : public helloworld::Greeter::Service {
  grpc::Status SayHello(grpc::ServerContext*, const helloworld::HelloRequest* req,
                        helloworld::HelloReply* reply) override {
    reply->set_message("Hello " + req->name());
    return grpc::Status::OK;
  }
};

// Enable() is once per process: the cases that need it enabled ask for it, in any order.
void EnableOnce() {
  static const absl::Status st = grpc_bypass::Enable(RingOptions());
  ASSERT_TRUE(st.ok()) << st;
}

TEST(Enable, EnablesOnceAndRefusesASecondCall) {
  EnableOnce();
  absl::Status again = grpc_bypass::Enable(RingOptions());
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("already called"), std::string::npos) << again;
}

TEST(Enable, AddressesOffTheBypassInterfaceUseTheKernel) {
  EnableOnce();
  // A server and a client on 127.0.0.1 in this bypass-enabled process: both fall back to
  // gRPC's posix transport and work as before.
  GreeterImpl service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  grpc_bypass::engine::Router& router = grpc_bypass::engine::EngineCore::Get()->router();
  const grpc_bypass::engine::RoutingCounters before = router.counters();
  auto stub = helloworld::Greeter::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  helloworld::HelloRequest req;
  req.set_name("kernel");
  helloworld::HelloReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(stub->SayHello(&ctx, req, &reply).ok());
  EXPECT_EQ(reply.message(), "Hello kernel");
  const grpc_bypass::engine::RoutingCounters after = router.counters();
  EXPECT_GT(after.kernel_connects, before.kernel_connects);
  EXPECT_EQ(after.bypass_connects, before.bypass_connects);
  EXPECT_GT(after.kernel_binds, 0u);
  EXPECT_NE(grpc_bypass::StatsSummary().find("grpc bypass connects"), std::string::npos);
  server->Shutdown();
}

}  // namespace
