// greeter_client: calls Greeter.SayHello --count times and prints the replies' latency.
// Uses the bypass when BYPASS_EAL is set (grpc_bypass::Enable()), the kernel otherwise.
//
//   BYPASS_EAL='...' BYPASS_IP=198.18.0.2/24 greeter_client --target=198.18.0.1:50051
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/echo/latency.h"
#include "proto/helloworld.grpc.pb.h"
#include "examples/common/sample_main.h"
#include "transport/grpc/enable.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(std::string, name, "world", "name to greet");
ABSL_FLAG(int, count, 1, "number of calls");
ABSL_FLAG(bool, new_channel_per_call, false, "open (and close) a new channel for every call");
ABSL_FLAG(std::string, also_target, "", "a second server, called --count times as well");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("greeter_client");
  auto new_stub = [](const std::string& target) {
    // A new channel per call must mean a new connection per call: gRPC shares subchannels
    // between channels to the same target through its global pool (1.83 reuses the previous
    // channel's connection while it is still up), so such channels keep a pool of their own.
    grpc::ChannelArguments args;
    if (absl::GetFlag(FLAGS_new_channel_per_call)) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return helloworld::Greeter::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  };
  std::vector<double> us;
  std::string last;
  std::vector<std::string> targets = {absl::GetFlag(FLAGS_target)};
  if (!absl::GetFlag(FLAGS_also_target).empty()) targets.push_back(absl::GetFlag(FLAGS_also_target));
  for (const std::string& target : targets) {
    auto stub = new_stub(target);
    for (int i = 0; i < absl::GetFlag(FLAGS_count); ++i) {
      if (absl::GetFlag(FLAGS_new_channel_per_call) && i > 0) stub = new_stub(target);
      helloworld::HelloRequest req;
      req.set_name(absl::GetFlag(FLAGS_name));
      helloworld::HelloReply reply;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      auto t0 = std::chrono::steady_clock::now();
      grpc::Status st = stub->SayHello(&ctx, req, &reply);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (!st.ok()) {
        std::fprintf(stderr, "greeter_client: RPC %d to %s failed: %d %s\n", i, target.c_str(),
                     st.error_code(), st.error_message().c_str());
        return 1;
      }
      last = reply.message();
    }
    std::printf("Greeter at %s received: %s\n", target.c_str(), last.c_str());
  }
  std::printf("Greeter received: %s\n", last.c_str());
  if (us.size() > 1) {
    std::printf("%s\n", grpc_bypass::examples::LatencyLine(
                             "latency of " + std::to_string(us.size()) + " SayHello calls", us)
                             .c_str());
  }
  return 0;
}
