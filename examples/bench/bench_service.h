// The Bench service (proto/bench.proto): shared by bench_server and the in-process transport
// of bench_client. Any thread.
#ifndef GRPC_BYPASS_EXAMPLES_BENCH_BENCH_SERVICE_H
#define GRPC_BYPASS_EXAMPLES_BENCH_BENCH_SERVICE_H

#include <cstdio>
#include <map>
#include <string>

#include "proto/bench.grpc.pb.h"

namespace grpc_bypass::bench {

// The sync API (a thread per call from gRPC's sync-server pool).
class BenchService : public ::bench::Bench::Service {
 public:
  grpc::Status Unary(grpc::ServerContext*, const ::bench::Payload* in,
                     ::bench::Payload* out) override;
  grpc::Status StreamPingPong(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<::bench::Payload, ::bench::Payload>* stream) override;
  grpc::Status StreamThroughput(grpc::ServerContext*, grpc::ServerReader<::bench::Payload>* in,
                                ::bench::Payload* out) override;
  grpc::Status Cpu(grpc::ServerContext*, const ::bench::CpuRequest*,
                   ::bench::CpuReply* out) override;

  // What Cpu() reports as the server's API (before the server starts).
  void set_api(std::string api) { api_ = std::move(api); }

 private:
  std::string api_ = "sync";
};

// The callback API for the latency methods (Unary, StreamPingPong: reactors, as most new gRPC
// C++ services are written); StreamThroughput and Cpu stay sync (gRPC serves the mix).
class CallbackBenchService
    : public ::bench::Bench::WithCallbackMethod_Unary<
          ::bench::Bench::WithCallbackMethod_StreamPingPong<BenchService>> {
 public:
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const ::bench::Payload* in,
                                  ::bench::Payload* out) override;
  grpc::ServerBidiReactor<::bench::Payload, ::bench::Payload>* StreamPingPong(
      grpc::CallbackServerContext* ctx) override;
};

// Unary calls this process's Bench service has ended with status OK, every API (any thread):
// bench_server prints it at shutdown, so that a load generator that does not read gRPC's
// trailers (h2load) can be checked against it.
void CountUnaryOk();
uint64_t UnaryOkCount();

// getrusage(RUSAGE_SELF): user and system seconds of this process.
void ProcessCpu(double* user_s, double* system_s);
// Context switches of this process so far (voluntary + involuntary, all threads).
int64_t ProcessContextSwitches();

// Context switches per thread of this process (/proc/self/task: tid -> name, voluntary,
// involuntary), to see which thread waits. PrintThreadSwitchesDelta prints the difference between
// two samples, threads with the most switches first, one line each, to `out`.
struct ThreadSwitches {
  std::string name;
  int64_t voluntary = 0;
  int64_t involuntary = 0;
};
std::map<int, ThreadSwitches> SampleThreadSwitches();
void PrintThreadSwitchesDelta(const std::map<int, ThreadSwitches>& before,
                              const std::map<int, ThreadSwitches>& after, uint64_t rpcs,
                              const char* who, FILE* out);

}  // namespace grpc_bypass::bench

#endif  // GRPC_BYPASS_EXAMPLES_BENCH_BENCH_SERVICE_H
