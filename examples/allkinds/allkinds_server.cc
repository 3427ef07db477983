// allkinds_server: the four RPC kinds (proto/allkinds.proto). Uses the bypass when BYPASS_EAL
// is set (grpc_bypass::Enable()), the kernel otherwise. SIGINT/SIGTERM: clean shutdown.
#include <atomic>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "proto/allkinds.grpc.pb.h"
#include "examples/common/sample_main.h"

ABSL_FLAG(int, port, 50055, "port to listen on (all addresses)");
ABSL_FLAG(int, permit_keepalive_ms, 0,
          "accept client keepalive pings this often, also without calls (0: gRPC's default, "
          "which answers pings more often than every 5 minutes with GOAWAY too_many_pings)");

namespace {
std::atomic<int> g_cancelled{0};  // streams the client cancelled (printed at exit)

class AllKindsImpl final : public allkinds::AllKinds::Service {
  grpc::Status Unary(grpc::ServerContext*, const allkinds::Msg* in, allkinds::Msg* out) override {
    out->set_data(in->data());
    return grpc::Status::OK;
  }
  grpc::Status ServerStream(grpc::ServerContext* ctx, const allkinds::Msg* in,
                            grpc::ServerWriter<allkinds::Msg>* w) override {
    for (int i = 0; i < in->count() && !ctx->IsCancelled(); ++i) {
      allkinds::Msg m;
      m.set_data(in->data());
      m.set_count(i);
      if (!w->Write(m)) break;
    }
    if (ctx->IsCancelled()) g_cancelled.fetch_add(1);
    return grpc::Status::OK;
  }
  grpc::Status ClientStream(grpc::ServerContext*, grpc::ServerReader<allkinds::Msg>* r,
                            allkinds::Msg* out) override {
    allkinds::Msg m;
    int n = 0;
    std::string all;
    while (r->Read(&m)) {
      ++n;
      all += m.data();
    }
    out->set_count(n);
    out->set_data(all);
    return grpc::Status::OK;
  }
  grpc::Status Bidi(grpc::ServerContext* ctx,
                    grpc::ServerReaderWriter<allkinds::Msg, allkinds::Msg>* rw) override {
    allkinds::Msg m;
    while (rw->Read(&m)) {
      if (!rw->Write(m)) break;
    }
    if (ctx->IsCancelled()) g_cancelled.fetch_add(1);
    return grpc::Status::OK;
  }
};
}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("allkinds_server");
  AllKindsImpl service;
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(16 << 20);
  if (const int ka = absl::GetFlag(FLAGS_permit_keepalive_ms); ka > 0) {
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, ka);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  }
  const int rc = m.ServeUntilSignal(builder, addr);
  std::printf("allkinds_server: %d streams cancelled by the client\n", g_cancelled.load());
  return rc;
}
