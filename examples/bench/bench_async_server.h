// The async (completion-queue) API for the latency methods of the Bench service: Unary and
// StreamPingPong as tagged state machines on ServerCompletionQueues, each drained by a thread
// of its own (the classic async gRPC C++ server); StreamThroughput and Cpu stay sync (gRPC
// serves the mix). Lifecycle, from one thread:
//   AsyncBenchServer a(threads); a.Register(builder); server = builder.BuildAndStart();
//   a.Start(); ... server->Shutdown(); a.Stop();   (then the server may be destroyed)
#ifndef GRPC_BYPASS_EXAMPLES_BENCH_BENCH_ASYNC_SERVER_H
#define GRPC_BYPASS_EXAMPLES_BENCH_BENCH_ASYNC_SERVER_H

#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "examples/bench/bench_service.h"

namespace grpc_bypass::bench {

class AsyncBenchServer {
 public:
  using Service = ::bench::Bench::WithAsyncMethod_Unary<
      ::bench::Bench::WithAsyncMethod_StreamPingPong<BenchService>>;

  explicit AsyncBenchServer(int threads) : threads_(threads < 1 ? 1 : threads) {
    service_.set_api("async");
  }
  ~AsyncBenchServer() { Stop(); }

  // Before BuildAndStart: the service and one completion queue per thread.
  void Register(grpc::ServerBuilder& builder);
  // After BuildAndStart: asks for the first calls and starts the threads.
  void Start();
  // After Server::Shutdown: shuts the queues down, drains them (every call object is freed)
  // and joins the threads. Idempotent.
  void Stop();

 private:
  void Drain(grpc::ServerCompletionQueue* cq);

  const int threads_;
  Service service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> workers_;
  bool stopped_ = false;
};

}  // namespace grpc_bypass::bench

#endif  // GRPC_BYPASS_EXAMPLES_BENCH_BENCH_ASYNC_SERVER_H
