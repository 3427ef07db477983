// bench_client: drives one benchmark run against bench_server (or an in-process server) and
// prints it as one line "RUN <json>" (bench.Run, protobuf's JSON printer, proto field names).
//
//   --transport=kernel|bypass|inproc   a label; inproc also starts the service in this
//                                      process and uses InProcessChannel (gRPC's own cost)
//   --workload=unary                   closed loop: --outstanding callers, each one RPC at a time
//   --workload=unary_open_loop         --rate RPCs/s sent on schedule whatever the replies do;
//                                      latency counts from the intended send time
//   --workload=stream_pingpong         one bidi stream, one message in flight
//   --workload=stream_throughput       a client stream of --payload byte messages
// Uses the bypass when BYPASS_EAL is set (grpc_bypass::Enable()).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "examples/bench/bench_service.h"
#include "examples/bench/histogram.h"
#include "examples/bench/json.h"
#include "proto/bench.grpc.pb.h"
#include "examples/common/sample_main.h"

ABSL_FLAG(int, round, 1, "tools/bench --rounds: the round number, copied into the report");
ABSL_FLAG(std::string, target, "127.0.0.1:50060", "bench_server address");
ABSL_FLAG(std::string, transport, "kernel", "kernel | bypass | inproc");
ABSL_FLAG(std::string, workload, "unary",
          "unary | unary_open_loop | stream_pingpong | stream_throughput");
ABSL_FLAG(int, payload, 64, "message size in bytes");
ABSL_FLAG(int, count, 20000, "measured RPCs (or messages)");
ABSL_FLAG(int, warmup, 2000, "RPCs before measuring");
ABSL_FLAG(int, outstanding, 1, "unary: RPCs in flight (one caller thread each)");
ABSL_FLAG(double, rate, 5000, "unary_open_loop: RPCs per second");
ABSL_FLAG(std::string, cdf_out, "", "append 'transport workload payload us fraction' lines");

namespace {

using Clock = std::chrono::steady_clock;
using grpc_bypass::bench::Histogram;

uint64_t Ns(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

[[noreturn]] void Die(const std::string& what, const grpc::Status& st) {
  std::fprintf(stderr, "bench_client: %s: %s (%d)\n", what.c_str(), st.error_message().c_str(),
               static_cast<int>(st.error_code()));
  std::exit(1);
}

struct Result {
  Histogram hist;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t bytes = 0;
};

void UnaryCall(bench::Bench::Stub* stub, const bench::Payload& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  bench::Payload resp;
  grpc::Status st = stub->Unary(&ctx, req, &resp);
  if (!st.ok()) Die("Unary", st);
  if (resp.data().size() != req.data().size()) {
    std::fprintf(stderr, "bench_client: reply of %zu bytes, expected %zu\n", resp.data().size(),
                 req.data().size());
    std::exit(1);
  }
}

Result RunUnary(bench::Bench::Stub* stub, const bench::Payload& req, int count, int warmup,
                int outstanding) {
  std::vector<Histogram> hists(outstanding);
  std::vector<std::thread> threads;
  std::atomic<int> warm{0};
  absl::Notification go;
  Clock::time_point start;
  for (int t = 0; t < outstanding; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < warmup / outstanding + 1; ++i) UnaryCall(stub, req);
      if (warm.fetch_add(1) + 1 == outstanding) {
        start = Clock::now();
        go.Notify();
      }
      go.WaitForNotification();
      const int n = count / outstanding + (t < count % outstanding ? 1 : 0);
      for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        UnaryCall(stub, req);
        hists[t].Record(Ns(Clock::now() - t0));
      }
    });
  }
  for (auto& th : threads) th.join();
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& h : hists) r.hist.Merge(h);
  r.ops = r.hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

// Open loop: call i is due at start + i/rate and is sent then (async), whatever the earlier
// calls are doing; its latency counts from when it was due, so a stall shows up in every call
// it delays (no coordinated omission).
Result RunOpenLoop(bench::Bench::Stub* stub, const bench::Payload& req, int count, int warmup,
                   double rate) {
  for (int i = 0; i < warmup; ++i) UnaryCall(stub, req);
  struct Call {
    grpc::ClientContext ctx;
    bench::Payload resp;
    Clock::time_point due;
  };
  std::vector<std::unique_ptr<Call>> calls(count);
  absl::Mutex mu;
  Histogram hist;
  int done = 0, failed = 0;
  bool all_done = false;
  const auto start = Clock::now();
  const auto period = std::chrono::duration<double>(1.0 / rate);
  for (int i = 0; i < count; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(period * i);
    // Sleep, not spin: on a small machine a spinning pacer would take a core from the
    // transport under test. Oversleeping counts as latency (from `due`), for every transport.
    std::this_thread::sleep_until(due);
    auto& c = calls[i];
    c = std::make_unique<Call>();
    c->due = due;
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    Call* cp = c.get();
    stub->async()->Unary(&cp->ctx, &req, &cp->resp, [&, cp](grpc::Status st) {
      const uint64_t ns = Ns(Clock::now() - cp->due);
      absl::MutexLock lock(&mu);
      if (st.ok()) {
        hist.Record(ns);
      } else {
        ++failed;
      }
      if (++done == count) all_done = true;
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&all_done));
  }
  if (failed > 0) {
    std::fprintf(stderr, "bench_client: %d of %d open-loop calls failed\n", failed, count);
    std::exit(1);
  }
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.hist = hist;
  r.ops = hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

Result RunStreamPingPong(bench::Bench::Stub* stub, const bench::Payload& req, int count,
                         int warmup) {
  grpc::ClientContext ctx;
  auto stream = stub->StreamPingPong(&ctx);
  bench::Payload resp;
  Result r;
  Clock::time_point start;
  for (int i = 0; i < warmup + count; ++i) {
    if (i == warmup) start = Clock::now();
    const auto t0 = Clock::now();
    if (!stream->Write(req) || !stream->Read(&resp)) Die("StreamPingPong", stream->Finish());
    if (i >= warmup) r.hist.Record(Ns(Clock::now() - t0));
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  if (!st.ok()) Die("StreamPingPong", st);
  r.ops = r.hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

// Latency per message: the time Write() takes (flow control pushes back when the peer lags);
// throughput: all bytes over the time until the server has read the last one.
Result RunStreamThroughput(bench::Bench::Stub* stub, const bench::Payload& req, int count,
                           int warmup) {
  Result r;
  for (int round = 0; round < 2; ++round) {
    const int n = round == 0 ? warmup : count;
    if (n == 0) continue;
    grpc::ClientContext ctx;
    bench::Payload resp;
    auto w = stub->StreamThroughput(&ctx, &resp);
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      if (!w->Write(req)) Die("StreamThroughput", w->Finish());
      if (round == 1) r.hist.Record(Ns(Clock::now() - t0));
    }
    w->WritesDone();
    grpc::Status st = w->Finish();
    if (!st.ok()) Die("StreamThroughput", st);
    if (round == 1) r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  r.ops = r.hist.count();
  r.bytes = r.ops * req.data().size();
  return r;
}

bench::CpuReply ServerCpu(bench::Bench::Stub* stub) {
  grpc::ClientContext ctx;
  bench::CpuRequest req;
  bench::CpuReply resp;
  grpc::Status st = stub->Cpu(&ctx, req, &resp);
  if (!st.ok()) Die("Cpu", st);
  return resp;
}

double SelfCpu() {
  double u = 0, s = 0;
  grpc_bypass::bench::ProcessCpu(&u, &s);
  return u + s;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("bench_client");
  const std::string transport = absl::GetFlag(FLAGS_transport);
  const std::string workload = absl::GetFlag(FLAGS_workload);
  const int payload = absl::GetFlag(FLAGS_payload);
  const int count = absl::GetFlag(FLAGS_count);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  const int outstanding = std::max(1, absl::GetFlag(FLAGS_outstanding));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  std::shared_ptr<grpc::Channel> channel;
  grpc_bypass::bench::BenchService local_service;
  std::unique_ptr<grpc::Server> local_server;
  if (transport == "inproc") {
    grpc::ServerBuilder b;
    b.RegisterService(&local_service);
    b.SetMaxReceiveMessageSize(-1);
    b.SetMaxSendMessageSize(-1);
    local_server = b.BuildAndStart();
    channel = local_server->InProcessChannel(args);
  } else {
    channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                        grpc::InsecureChannelCredentials(), args);
  }
  auto stub = bench::Bench::NewStub(channel);
  bench::Payload req;
  req.set_data(std::string(payload, 'b'));
  const bool remote = transport != "inproc";
  const bench::CpuReply server0 = remote ? ServerCpu(stub.get()) : bench::CpuReply();
  const double cpu0 = SelfCpu();
  const int64_t csw0 = grpc_bypass::bench::ProcessContextSwitches();
  Result r;
  if (workload == "unary") {
    r = RunUnary(stub.get(), req, count, warmup, outstanding);
  } else if (workload == "unary_open_loop") {
    r = RunOpenLoop(stub.get(), req, count, warmup, absl::GetFlag(FLAGS_rate));
  } else if (workload == "stream_pingpong") {
    r = RunStreamPingPong(stub.get(), req, count, warmup);
  } else if (workload == "stream_throughput") {
    r = RunStreamThroughput(stub.get(), req, count, warmup);
  } else {
    std::fprintf(stderr, "bench_client: --workload: unknown '%s'\n", workload.c_str());
    return 2;
  }
  const double cpu = SelfCpu() - cpu0;
  const int64_t csw = grpc_bypass::bench::ProcessContextSwitches() - csw0;
  const bench::CpuReply server1 = remote ? ServerCpu(stub.get()) : bench::CpuReply();
  const double server_cpu =
      server1.user_s() + server1.system_s() - server0.user_s() - server0.system_s();
  const int64_t server_csw = server1.context_switches() - server0.context_switches();

  bench::Run run;
  run.set_transport(transport);
  run.set_workload(workload);
  run.set_payload_bytes(payload);
  const Histogram& h = r.hist;
  run.set_p50_us(h.Percentile(0.5) / 1e3);
  run.set_p90_us(h.Percentile(0.9) / 1e3);
  run.set_p99_us(h.Percentile(0.99) / 1e3);
  run.set_p999_us(h.Percentile(0.999) / 1e3);
  run.set_max_us(h.max() / 1e3);
  run.set_count(static_cast<int64_t>(r.ops));
  run.set_rpcs_per_s(r.ops / r.seconds);
  run.set_mb_per_s(r.bytes / r.seconds / 1e6);
  // The warm-up's CPU is included in neither: both samples bracket the measured phase only
  // approximately (the Cpu RPCs themselves are two more calls).
  run.set_cpu_s_per_1k_rpcs(cpu / r.ops * 1000);
  run.set_server_cpu_s_per_1k_rpcs(server_cpu / r.ops * 1000);
  run.set_ctx_switches_per_rpc(static_cast<double>(csw) / r.ops);
  run.set_server_ctx_switches_per_rpc(static_cast<double>(server_csw) / r.ops);
  run.set_round(absl::GetFlag(FLAGS_round));
  if (workload == "unary") run.set_outstanding(outstanding);
  if (workload == "unary_open_loop") run.set_target_rate(absl::GetFlag(FLAGS_rate));
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(run, &json, grpc_bypass::bench::ReportJsonOptions());
  std::printf("RUN %s\n", json.c_str());
  if (const std::string cdf = absl::GetFlag(FLAGS_cdf_out); !cdf.empty()) {
    std::ofstream out(cdf, std::ios::app);
    // One series per run: a closed loop with several RPCs in flight is "unary_xN".
    const std::string series =
        workload == "unary" && outstanding > 1 ? absl::StrCat(workload, "_x", outstanding)
                                               : workload;
    for (const auto& [ns, frac] : h.Cdf()) {
      out << transport << " " << series << " " << payload << " " << ns / 1e3 << " " << frac
          << "\n";
    }
  }
  std::fflush(stdout);
  if (local_server) local_server->Shutdown();
  return 0;
}
