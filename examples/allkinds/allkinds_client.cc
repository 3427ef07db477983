// allkinds_client: exercises the four RPC kinds against allkinds_server and checks every
// reply; then cancels a bidi stream mid-way and a server stream mid-way. Exit 0 when all
// checks hold, 1 otherwise (one line per failed check).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "proto/allkinds.grpc.pb.h"
#include "examples/common/sample_main.h"
#include "transport/grpc/enable.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50055", "server address");
ABSL_FLAG(int, keepalive_ms, 0,
          "send HTTP/2 keepalive pings every N ms, also without calls (0: gRPC's default)");
ABSL_FLAG(int, idle_ms, 0, "at the end, stay idle N ms, then check the channel still works");
ABSL_FLAG(int, unary_many, 0,
          "instead of the checks: N unary calls of --unary_bytes one after another, every "
          "byte verified (for loss tests)");
ABSL_FLAG(int, unary_bytes, 65536, "payload of --unary_many calls");

namespace {
int failures = 0;
void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}
std::chrono::system_clock::time_point In(int s) {
  return std::chrono::system_clock::now() + std::chrono::seconds(s);
}
}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("allkinds_client");
  grpc::ChannelArguments args;
  if (const int ka = absl::GetFlag(FLAGS_keepalive_ms); ka > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ka);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, ka);
  }
  auto stub = allkinds::AllKinds::NewStub(grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args));
  if (const int many = absl::GetFlag(FLAGS_unary_many); many > 0) {
    const auto t0 = std::chrono::steady_clock::now();
    const int bytes = absl::GetFlag(FLAGS_unary_bytes);
    int bad = 0;
    for (int i = 0; i < many; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(In(120));
      allkinds::Msg in, out;
      std::string data(bytes, 0);
      for (int j = 0; j < bytes; ++j) data[j] = static_cast<char>((j * 7 + i) % 251);
      in.set_data(data);
      grpc::Status st = stub->Unary(&ctx, in, &out);
      if (!st.ok() || out.data() != data) ++bad;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Check(bad == 0, std::to_string(many) + " unary calls of " + std::to_string(bytes) +
                        " bytes, every byte verified (" + std::to_string(bad) + " bad) in " +
                        std::to_string(s) + " s");
    if (absl::StatusOr<grpc_bypass::Stats> stats = grpc_bypass::GetStats(); stats.ok()) {
      std::printf("faults: drops %llu reorders %llu\n",
                  static_cast<unsigned long long>(stats->Get("port0.fault_drops")),
                  static_cast<unsigned long long>(stats->Get("port0.fault_reorders")));
    }
    return failures == 0 ? 0 : 1;
  }
  {  // unary, 1 MiB
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20));
    allkinds::Msg in, out;
    in.set_data(std::string(1 << 20, 'u'));
    grpc::Status st = stub->Unary(&ctx, in, &out);
    Check(st.ok() && out.data() == in.data(), "unary 1 MiB echoed");
  }
  {  // server streaming: 1000 messages
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20));
    allkinds::Msg in, m;
    in.set_data("s");
    in.set_count(1000);
    auto r = stub->ServerStream(&ctx, in);
    int n = 0;
    bool order = true;
    while (r->Read(&m)) order &= m.count() == n++;
    Check(r->Finish().ok() && n == 1000 && order, "server streaming: 1000 messages in order");
  }
  {  // client streaming: 500 messages
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20));
    allkinds::Msg out;
    auto w = stub->ClientStream(&ctx, &out);
    std::string expect;
    for (int i = 0; i < 500; ++i) {
      allkinds::Msg m;
      m.set_data(std::to_string(i) + ",");
      expect += m.data();
      w->Write(m);
    }
    w->WritesDone();
    Check(w->Finish().ok() && out.count() == 500 && out.data() == expect,
          "client streaming: 500 messages counted and concatenated");
  }
  {  // bidi: 500 ping-pongs on one stream
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    auto rw = stub->Bidi(&ctx);
    bool ok = true;
    for (int i = 0; i < 500 && ok; ++i) {
      allkinds::Msg m, back;
      m.set_data(std::string(100 + i, 'b'));
      ok = rw->Write(m) && rw->Read(&back) && back.data() == m.data();
    }
    rw->WritesDone();
    Check(ok && rw->Finish().ok(), "bidi: 500 ping-pongs on one stream");
  }
  {  // cancellation mid-stream
    grpc::ClientContext ctx;
    auto rw = stub->Bidi(&ctx);
    allkinds::Msg m, back;
    m.set_data("x");
    bool first = rw->Write(m) && rw->Read(&back);
    ctx.TryCancel();
    grpc::Status st = rw->Finish();
    Check(first && st.error_code() == grpc::StatusCode::CANCELLED, "bidi cancelled mid-stream: CANCELLED");
  }
  {  // a long server stream cut by its deadline
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    allkinds::Msg in, m;
    in.set_data(std::string(1000, 'd'));
    in.set_count(100000000);
    auto r = stub->ServerStream(&ctx, in);
    while (r->Read(&m)) {
    }
    Check(r->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED,
          "server stream past its deadline: DEADLINE_EXCEEDED");
  }
  if (const int idle = absl::GetFlag(FLAGS_idle_ms); idle > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(idle));
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10));
    allkinds::Msg in, out;
    in.set_data("after idle");
    grpc::Status st = stub->Unary(&ctx, in, &out);
    Check(st.ok() && out.data() == "after idle",
          "unary on the same channel after " + std::to_string(idle) + " ms idle");
  }
  std::printf("%d checks failed\n", failures);
  return failures == 0 ? 0 : 1;
}
