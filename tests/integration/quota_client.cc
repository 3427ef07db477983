// quota_client: --calls concurrent unary calls of --payload bytes to a Bench server (one
// channel, one thread per call), then one line: "quota_client: ok N resource_exhausted M
// unavailable U other K" (a server short of memory refuses calls with RESOURCE_EXHAUSTED or
// sends GOAWAY: UNAVAILABLE). Exit 0 unless a call failed with another code.
// Over the bypass when BYPASS_EAL is set (grpc_bypass::Enable()).
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/common/sample_main.h"
#include "proto/bench.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50060", "Bench server");
ABSL_FLAG(int, calls, 16, "concurrent calls");
ABSL_FLAG(int, payload, 1 << 20, "request bytes");
ABSL_FLAG(int, deadline_ms, 30000, "each call's deadline");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("quota_client");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = bench::Bench::NewStub(channel);
  bench::Payload req;
  req.set_data(std::string(absl::GetFlag(FLAGS_payload), 'q'));
  std::atomic<int> ok{0}, exhausted{0}, unavailable{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < absl::GetFlag(FLAGS_calls); ++i) {
    threads.emplace_back([&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
      bench::Payload resp;
      grpc::Status st = stub->Unary(&ctx, req, &resp);
      if (st.ok()) {
        ok++;
      } else if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        exhausted++;
      } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
        if (absl::GetFlag(FLAGS_calls) == 1) {  // the "serves again" probe: say why
          std::fprintf(stderr, "quota_client: UNAVAILABLE: %s\n", st.error_message().c_str());
        }
        unavailable++;
      } else {
        std::fprintf(stderr, "quota_client: %s (%d)\n", st.error_message().c_str(),
                     static_cast<int>(st.error_code()));
        other++;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("quota_client: ok %d resource_exhausted %d unavailable %d other %d\n", ok.load(),
              exhausted.load(), unavailable.load(), other.load());
  return other.load() == 0 ? 0 : 1;
}
