// stalled_reaction_server: a callback-API AllKinds.ServerStream whose reaction blocks once,
// for the pollset bridge's owed kicks (pollset_bridge.cc, OwedKick). It writes `count`
// messages, each from the OnWriteDone of the one before; in the OnWriteDone of message
// --stall_at it starts the next write and then sleeps --stall_ms (a reaction that blocks,
// which the callback API forbids and real code still does). The next OnWriteDone is a
// completion that this thread made itself, so the bridge owes its kick to this thread; the
// stack's background poller must pass it on to gRPC's other waiting thread, so that the
// stream goes on during the sleep. Other methods: UNIMPLEMENTED.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/common/sample_main.h"
#include "proto/allkinds.grpc.pb.h"

ABSL_FLAG(int, port, 50056, "port to listen on (all addresses)");
ABSL_FLAG(int, stall_at, 5, "the message whose OnWriteDone blocks");
ABSL_FLAG(int, stall_ms, 1000, "how long it blocks");
ABSL_FLAG(int, stall_streams, 1, "how many streams (the first ones) block");

namespace {

class StreamReactor : public grpc::ServerWriteReactor<allkinds::Msg> {
 public:
  explicit StreamReactor(const allkinds::Msg& in)
      : count_(in.count()), stalls_(streams.fetch_add(1) < absl::GetFlag(FLAGS_stall_streams)) {
    msg_.set_data(in.data());
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    const int done = sent_ - 1;
    Next();
    if (stalls_ && done == absl::GetFlag(FLAGS_stall_at)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(absl::GetFlag(FLAGS_stall_ms)));
    }
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (sent_ == count_) {
      Finish(grpc::Status::OK);
      return;
    }
    msg_.set_count(sent_++);
    StartWrite(&msg_);
  }
  static inline std::atomic<int> streams{0};  // started so far
  const int count_;
  const bool stalls_;
  int sent_ = 0;
  allkinds::Msg msg_;
};

class Service final : public allkinds::AllKinds::CallbackService {
  grpc::ServerWriteReactor<allkinds::Msg>* ServerStream(grpc::CallbackServerContext*,
                                                        const allkinds::Msg* in) override {
    return new StreamReactor(*in);
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("stalled_reaction_server");
  Service service;
  grpc::ServerBuilder builder;
  const std::string addr = "[::]:" + std::to_string(absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  return m.ServeUntilSignal(builder, addr);
}
