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
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
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
ABSL_FLAG(std::string, arrival, "fixed",
          "unary_open_loop: fixed (every 1/rate) or poisson (exponential gaps of mean 1/rate, "
          "seeded: the same schedule every run)");
ABSL_FLAG(int, pacer_spin_us, 20,
          "unary_open_loop: the shortest time before each due time at which the pacer stops "
          "sleeping and spins; it spins longer where its sleeps wake later (up to half the "
          "gap between calls, at most 500 us)");
ABSL_FLAG(int, idle_channels, 0,
          "unary: this many more channels, each connected by one call before the warm-up and "
          "then idle while the busy ones are measured (does an idle connection cost the busy?)");
ABSL_FLAG(int, channels, 1,
          "unary: channels (each its own connection), the --outstanding callers or chains "
          "spread over them round-robin");
ABSL_FLAG(std::string, api, "sync",
          "the client API: sync (blocking calls, one caller thread per RPC in flight) or "
          "callback (stub->async() for unary, each reply's callback sends the next call; a "
          "ClientBidiReactor for stream_pingpong)");
ABSL_FLAG(bool, thread_csw, false,
          "print the measured phase's context switches per RPC of each client thread to stderr "
          "(THREAD_CSW lines: which thread waits)");
ABSL_FLAG(std::string, cdf_out, "",
          "append 'transport series payload us fraction round' lines (one CDF per run)");

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
  Histogram lateness;  // open loop: the pacer's own lateness (send time - due time)
  // Open loop: the pacer thread's own context switches and CPU seconds in the measured phase
  // (the generator's, taken out of the client process's figures).
  int64_t gen_switches = 0;
  double gen_cpu_s = 0;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t bytes = 0;
};

// The caller threads' context switches in the measured phase (they have exited when the
// per-thread sample is taken).
std::atomic<int64_t> caller_switches{0};
std::atomic<int64_t> caller_involuntary{0};

// This thread's context switches (voluntary + involuntary, and involuntary alone) and CPU
// seconds so far.
struct ThreadUsage {
  int64_t switches = 0, involuntary = 0;
  double cpu_s = 0;
  static ThreadUsage Now() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return {ru.ru_nvcsw + ru.ru_nivcsw, ru.ru_nivcsw,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6};
  }
};

// A unary call's outcome: exits the process on an error or a reply of the wrong size.
void CheckReply(const char* what, const grpc::Status& st, const bench::Payload& req,
                const bench::Payload& resp) {
  if (!st.ok()) Die(what, st);
  if (resp.data().size() != req.data().size()) {
    std::fprintf(stderr, "bench_client: %s: reply of %zu bytes, expected %zu\n", what,
                 resp.data().size(), req.data().size());
    std::exit(1);
  }
}

void UnaryCall(bench::Bench::Stub* stub, const bench::Payload& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  bench::Payload resp;
  CheckReply("Unary", stub->Unary(&ctx, req, &resp), req, resp);
}

// One stub per channel; caller or chain t uses For(t).
struct Stubs {
  std::vector<std::unique_ptr<bench::Bench::Stub>> all;
  bench::Bench::Stub* For(int t) const { return all[t % all.size()].get(); }
};

// Caller or chain t's part of `count` calls over `outstanding`.
int Share(int count, int outstanding, int t) {
  return count / outstanding + (t < count % outstanding ? 1 : 0);
}

// The result of a closed loop: the callers' histograms merged, timed from `start` to now.
Result Merged(const std::vector<Histogram>& hists, Clock::time_point start,
              const bench::Payload& req) {
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& h : hists) r.hist.Merge(h);
  r.ops = r.hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

// Each Run* function warms up first, then calls `measure()` once (the CPU and context-switch
// samples are taken there), then measures.
using MeasureFn = std::function<void()>;

Result RunUnary(const Stubs& stubs, const bench::Payload& req, int count, int warmup,
                int outstanding, const MeasureFn& measure) {
  std::vector<Histogram> hists(outstanding);
  std::vector<std::thread> threads;
  std::atomic<int> warm{0};
  absl::Notification go;
  Clock::time_point start;
  for (int t = 0; t < outstanding; ++t) {
    threads.emplace_back([&, t] {
      bench::Bench::Stub* stub = stubs.For(t);
      for (int i = 0; i < warmup / outstanding + 1; ++i) UnaryCall(stub, req);
      if (warm.fetch_add(1) + 1 == outstanding) {
        measure();
        start = Clock::now();
        go.Notify();
      }
      go.WaitForNotification();
      const ThreadUsage u0 = ThreadUsage::Now();
      const int n = Share(count, outstanding, t);
      for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        UnaryCall(stub, req);
        hists[t].Record(Ns(Clock::now() - t0));
      }
      const ThreadUsage u1 = ThreadUsage::Now();
      caller_switches.fetch_add(u1.switches - u0.switches, std::memory_order_relaxed);
      caller_involuntary.fetch_add(u1.involuntary - u0.involuntary, std::memory_order_relaxed);
    });
  }
  for (auto& th : threads) th.join();
  return Merged(hists, start, req);
}

// The callback API, closed loop: `outstanding` chains, each with one call in flight; a call's
// callback (on whichever gRPC thread completes it) records it and sends the chain's next.
class UnaryChains {
 public:
  UnaryChains(const Stubs& stubs, const bench::Payload& req) : stubs_(stubs), req_(req) {}
  // Runs `per_chain[i]` calls on chain i; returns when all have completed.
  void Run(const std::vector<int>& per_chain, std::vector<Histogram>* hists) {
    std::vector<std::unique_ptr<Chain>> chains;
    for (size_t i = 0; i < per_chain.size(); ++i) {
      if (per_chain[i] == 0) continue;
      chains.push_back(std::make_unique<Chain>());
      chains.back()->stub = stubs_.For(static_cast<int>(i));
      chains.back()->left = per_chain[i];
      chains.back()->hist = hists == nullptr ? nullptr : &(*hists)[i];
    }
    absl::BlockingCounter running(static_cast<int>(chains.size()));
    for (auto& c : chains) Next(c.get(), &running);
    running.Wait();
  }

 private:
  struct Chain {
    bench::Bench::Stub* stub = nullptr;
    int left = 0;
    Histogram* hist = nullptr;
    std::unique_ptr<grpc::ClientContext> ctx;
    bench::Payload resp;
    Clock::time_point t0;
  };
  void Next(Chain* c, absl::BlockingCounter* running) {
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    c->resp.Clear();
    c->t0 = Clock::now();
    c->stub->async()->Unary(c->ctx.get(), &req_, &c->resp, [this, c, running](grpc::Status st) {
      if (c->hist != nullptr) c->hist->Record(Ns(Clock::now() - c->t0));
      CheckReply("Unary (callback API)", st, req_, c->resp);
      if (--c->left > 0) {
        Next(c, running);
      } else {
        running->DecrementCount();  // the chain's last call: nothing touches `c` after this
      }
    });
  }

  const Stubs& stubs_;
  const bench::Payload& req_;
};

Result RunUnaryCallback(const Stubs& stubs, const bench::Payload& req, int count,
                        int warmup, int outstanding, const MeasureFn& measure) {
  UnaryChains chains(stubs, req);
  chains.Run(std::vector<int>(outstanding, warmup / outstanding + 1), nullptr);
  std::vector<int> per_chain(outstanding);
  for (int t = 0; t < outstanding; ++t) per_chain[t] = Share(count, outstanding, t);
  std::vector<Histogram> hists(outstanding);
  measure();
  const auto start = Clock::now();
  chains.Run(per_chain, &hists);
  return Merged(hists, start, req);
}

// The callback API's bidi stream: write, read the echo, record, write the next; `count`
// messages, then half-close.
class PingPongReactor final : public grpc::ClientBidiReactor<bench::Payload, bench::Payload> {
 public:
  PingPongReactor(bench::Bench::Stub* stub, const bench::Payload& req, int count, Result* r)
      : req_(req), count_(count), r_(r) {
    stub->async()->StreamPingPong(&ctx_, this);
    start_ = Clock::now();
    Send();
    StartCall();
  }
  // Waits for the stream's end (OnDone); its status.
  grpc::Status Await() {
    done_.WaitForNotification();
    return status_;
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartRead(&resp_);  // else the stream failed: OnDone has the status
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    r_->hist.Record(Ns(Clock::now() - t0_));
    if (sent_ == count_) {
      r_->seconds = std::chrono::duration<double>(Clock::now() - start_).count();
      StartWritesDone();
      return;
    }
    Send();
  }
  void OnDone(const grpc::Status& st) override {
    status_ = st;  // read after the notification only
    done_.Notify();
  }

 private:
  void Send() {
    ++sent_;
    t0_ = Clock::now();
    StartWrite(&req_);
  }

  grpc::ClientContext ctx_;
  const bench::Payload& req_;
  bench::Payload resp_;
  const int count_;
  Result* const r_;
  int sent_ = 0;  // gRPC serialises a reactor's callbacks: no lock for these
  Clock::time_point t0_, start_;
  grpc::Status status_;
  absl::Notification done_;  // safe to destroy once WaitForNotification has returned
};

Result RunStreamPingPongCallback(bench::Bench::Stub* stub, const bench::Payload& req, int count,
                                 int warmup, const MeasureFn& measure) {
  Result r;
  for (int phase = 0; phase < 2; ++phase) {
    const int n = phase == 0 ? warmup : count;
    if (n == 0) continue;
    if (phase == 1) measure();  // from this thread, never from a reactor callback
    Result part;
    PingPongReactor reactor(stub, req, n, &part);
    const grpc::Status st = reactor.Await();
    if (!st.ok()) Die("StreamPingPong (callback API)", st);
    if (phase == 1) r = std::move(part);
  }
  r.ops = r.hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

// How late a sleep wakes on this machine: a decaying maximum of the overshoots seen (a jump
// up at once, then 1 % of the way down per wake), and from it how long before a due time the
// pacer should stop sleeping and spin. A VM's timer wakes 20-40 us late (measured on a
// 2-core AMD EPYC firecracker VM, kernel 6.18), a bare machine's a few; a fixed spin is
// either too short there (the pacer was 20-30 us late at p50) or wasteful here.
class WakeEstimate {
 public:
  // `min` and `max`: the bounds of the spin it returns.
  WakeEstimate(Clock::duration min, Clock::duration max) : min_(min), max_(std::max(min, max)) {}
  // After a sleep that ended `late` after it was due; returns the next spin.
  Clock::duration Woke(Clock::duration late) {
    const double us = std::chrono::duration<double, std::micro>(late).count();
    est_us_ = us > est_us_ ? us : est_us_ + (us - est_us_) * 0.01;
    const auto spin = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::micro>(est_us_ * 1.25 + 5));
    return std::clamp(spin, min_, max_);
  }

 private:
  const Clock::duration min_, max_;
  double est_us_ = 0;
};

// Open loop: call i is due at its arrival time (fixed: start + i/rate; poisson: exponential
// gaps of mean 1/rate) and is sent then (async), whatever the earlier calls are doing; its
// latency counts from when it was due, so a stall shows up in every call it delays (no
// coordinated omission). The pacer sleeps with a timer slack of 1 ns rather than Linux's
// default 50 us until a little before the due time, then spins (a pacer spinning all the
// time would take a core from the transport under test on a small machine: this one spins
// at least `spin`, and longer where sleeps wake later: WakeEstimate; it yields while a call
// is in flight). Its own lateness (send time - due time), context switches and CPU are
// reported beside the figures (Result): what of the latency is the generator's, and what of
// the client process's switches and CPU (taken out of those).
Result RunOpenLoop(bench::Bench::Stub* stub, const bench::Payload& req, int count, int warmup,
                   double rate, bool poisson, Clock::duration spin, const MeasureFn& measure) {
  for (int i = 0; i < warmup; ++i) UnaryCall(stub, req);
  const int old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "bench_client: PR_SET_TIMERSLACK: %s (the pacer keeps 50 us slack)\n",
                 std::strerror(errno));
  }
  measure();
  const ThreadUsage pacer0 = ThreadUsage::Now();
  struct Call {
    grpc::ClientContext ctx;
    bench::Payload resp;
    Clock::time_point due;
  };
  absl::Mutex mu;
  Histogram hist, lateness;
  int done = 0, failed = 0;
  bool all_done = false;
  std::atomic<int> in_flight{0};  // calls sent whose callback has not run
  std::mt19937_64 rng(1);
  std::exponential_distribution<double> gap(rate);
  double at_s = 0;  // the next call's due time, seconds after start
  // At most half the mean gap, so that the pacer spins for less than half of its core.
  const auto gap_half = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(0.5 / rate));
  WakeEstimate waker(spin, std::min<Clock::duration>(gap_half, std::chrono::microseconds(500)));
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(at_s));
    at_s += poisson ? gap(rng) : 1.0 / rate;
    // Only a real sleep tells how late sleeps wake: after a short gap (Poisson) the wake-up
    // time is already past, and how far past is the pacer's own delay, not the timer's (fed
    // to the estimate, it pushed the spin to its maximum, half the mean gap).
    if (const auto wake_at = due - spin; Clock::now() < wake_at) {
      std::this_thread::sleep_until(wake_at);
      spin = waker.Woke(Clock::now() - wake_at);
    }
    // While a call is in flight the spin yields the core at each turn: on a small machine
    // the transport's threads share it (a poller that reads that call's reply), and a pacer
    // spinning without yielding kept them off it until the scheduler preempted it,
    // milliseconds later (Poisson's short gaps: p50 3-4 x the fixed rate's). With no call in
    // flight nothing waits for the core, and a yield would only add switches. The lateness
    // this adds is measured with the rest.
    while (Clock::now() < due) {
      if (in_flight.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
    }
    // Freed by its own callback (gRPC's callback tag holds the call meanwhile): keeping every
    // call to the end made the pacer fault in fresh pages for each one.
    Call* cp = new Call;
    cp->due = due;
    cp->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const auto sent = Clock::now();
    lateness.Record(sent > due ? Ns(sent - due) : 0);
    in_flight.fetch_add(1, std::memory_order_relaxed);
    stub->async()->Unary(&cp->ctx, &req, &cp->resp, [&, cp](grpc::Status st) {
      const uint64_t ns = Ns(Clock::now() - cp->due);
      in_flight.fetch_sub(1, std::memory_order_relaxed);
      delete cp;
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
  const ThreadUsage pacer1 = ThreadUsage::Now();
  prctl(PR_SET_TIMERSLACK, old_slack > 0 ? old_slack : 50000, 0, 0, 0);
  if (failed > 0) {
    std::fprintf(stderr, "bench_client: %d of %d open-loop calls failed\n", failed, count);
    std::exit(1);
  }
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  absl::MutexLock lock(&mu);
  r.hist = hist;
  r.lateness = lateness;
  r.gen_switches = pacer1.switches - pacer0.switches;
  r.gen_cpu_s = pacer1.cpu_s - pacer0.cpu_s;
  r.ops = hist.count();
  r.bytes = r.ops * req.data().size() * 2;
  return r;
}

Result RunStreamPingPong(bench::Bench::Stub* stub, const bench::Payload& req, int count,
                         int warmup, const MeasureFn& measure) {
  grpc::ClientContext ctx;
  auto stream = stub->StreamPingPong(&ctx);
  bench::Payload resp;
  Result r;
  Clock::time_point start;
  for (int i = 0; i < warmup + count; ++i) {
    if (i == warmup) {
      measure();
      start = Clock::now();
    }
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
                           int warmup, const MeasureFn& measure) {
  Result r;
  for (int round = 0; round < 2; ++round) {
    const int n = round == 0 ? warmup : count;
    if (n == 0) continue;
    grpc::ClientContext ctx;
    bench::Payload resp;
    if (round == 1) measure();
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

// The command line, checked: one line on stderr and exit code 2 for a bad value.
struct Options {
  std::string transport, workload, api, arrival, target;
  int payload = 0, count = 0, warmup = 0, outstanding = 1, channels = 1, idle_channels = 0;
  double rate = 0;
  Clock::duration pacer_spin{};
};

std::optional<Options> ParseOptions() {
  Options o;
  o.transport = absl::GetFlag(FLAGS_transport);
  o.workload = absl::GetFlag(FLAGS_workload);
  o.api = absl::GetFlag(FLAGS_api);
  o.arrival = absl::GetFlag(FLAGS_arrival);
  o.target = absl::GetFlag(FLAGS_target);
  o.payload = absl::GetFlag(FLAGS_payload);
  o.count = absl::GetFlag(FLAGS_count);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.outstanding = std::max(1, absl::GetFlag(FLAGS_outstanding));
  o.channels = absl::GetFlag(FLAGS_channels);
  o.idle_channels = absl::GetFlag(FLAGS_idle_channels);
  o.rate = absl::GetFlag(FLAGS_rate);
  o.pacer_spin = std::chrono::microseconds(std::clamp(absl::GetFlag(FLAGS_pacer_spin_us), 0, 1000));
  std::string bad;
  if (o.channels < 1 || o.channels > 4096) {
    bad = absl::StrCat("--channels: ", o.channels, " is not 1..4096");
  } else if (o.idle_channels < 0 || o.idle_channels > 4096) {
    bad = absl::StrCat("--idle_channels: ", o.idle_channels, " is not 0..4096");
  } else if (o.arrival != "fixed" && o.arrival != "poisson") {
    bad = absl::StrCat("--arrival: '", o.arrival, "' is not fixed or poisson");
  } else if (o.api != "sync" && o.api != "callback") {
    bad = absl::StrCat("--api: '", o.api, "' is not sync or callback");
  } else if (o.api == "callback" && o.workload != "unary" && o.workload != "stream_pingpong") {
    bad = "--api=callback: for --workload=unary or stream_pingpong (the open loop always uses "
          "the callback API)";
  } else if (o.workload != "unary" && o.workload != "unary_open_loop" &&
             o.workload != "stream_pingpong" && o.workload != "stream_throughput") {
    bad = absl::StrCat("--workload: unknown '", o.workload, "'");
  }
  if (!bad.empty()) {
    std::fprintf(stderr, "bench_client: %s\n", bad.c_str());
    return std::nullopt;
  }
  return o;
}

// `n` stubs, each on a channel of its own connection (a local subchannel pool: otherwise
// channels to one target share one), in process when `local` is set.
Stubs MakeStubs(const Options& o, grpc::Server* local, int n, grpc::ChannelArguments args) {
  if (n > 1) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  Stubs stubs;
  for (int i = 0; i < n; ++i) {
    std::shared_ptr<grpc::Channel> channel =
        local != nullptr ? local->InProcessChannel(args)
                         : grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(),
                                                     args);
    // Connected before anything is measured, through gRPC's own reconnect backoff: a first
    // connect can fail at once (gRPC 1.51 on Debian 13, the kernel path: "connect: Invalid
    // argument" now and then with many channels), and the first call would then fail with it.
    if (local == nullptr &&
        !channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) {
      std::fprintf(stderr, "bench_client: channel %d of %d to %s did not connect within 30 s\n",
                   i + 1, n, o.target.c_str());
      std::exit(1);
    }
    stubs.all.push_back(bench::Bench::NewStub(channel));
  }
  return stubs;
}

Result RunWorkload(const Options& o, const Stubs& stubs, const bench::Payload& req,
                   const MeasureFn& measure) {
  bench::Bench::Stub* const stub = stubs.For(0);
  const bool callback = o.api == "callback";
  if (o.workload == "unary") {
    return callback ? RunUnaryCallback(stubs, req, o.count, o.warmup, o.outstanding, measure)
                    : RunUnary(stubs, req, o.count, o.warmup, o.outstanding, measure);
  }
  if (o.workload == "stream_pingpong") {
    return callback ? RunStreamPingPongCallback(stub, req, o.count, o.warmup, measure)
                    : RunStreamPingPong(stub, req, o.count, o.warmup, measure);
  }
  if (o.workload == "unary_open_loop") {
    return RunOpenLoop(stub, req, o.count, o.warmup, o.rate, o.arrival == "poisson",
                       o.pacer_spin, measure);
  }
  return RunStreamThroughput(stub, req, o.count, o.warmup, measure);
}

// The latency and rate fields of `run` from a result.
void SetFigures(const Result& r, bench::Run* run) {
  const Histogram& h = r.hist;
  run->set_p50_us(h.Percentile(0.5) / 1e3);
  run->set_p90_us(h.Percentile(0.9) / 1e3);
  run->set_p99_us(h.Percentile(0.99) / 1e3);
  run->set_p999_us(h.Percentile(0.999) / 1e3);
  run->set_max_us(h.max() / 1e3);
  run->set_count(static_cast<int64_t>(r.ops));
  run->set_rpcs_per_s(r.ops / r.seconds);
  run->set_mb_per_s(r.bytes / r.seconds / 1e6);
}

// Appends the run's CDF to --cdf_out: one series per run ("unary_x8_c16@callback_client").
void AppendCdf(const Options& o, const bench::Run& run, const Histogram& h) {
  const std::string path = absl::GetFlag(FLAGS_cdf_out);
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  std::string series = o.workload == "unary" && o.outstanding > 1
                           ? absl::StrCat(o.workload, "_x", o.outstanding)
                           : o.workload;
  if (o.channels > 1 && o.workload == "unary") absl::StrAppend(&series, "_c", o.channels);
  if (o.idle_channels > 0) absl::StrAppend(&series, "_idle", o.idle_channels);
  if (o.workload == "unary_open_loop" && o.arrival == "poisson") absl::StrAppend(&series, "_poisson");
  if (run.server_api() != "sync") absl::StrAppend(&series, "@", run.server_api(), "_server");
  if (o.api != "sync") absl::StrAppend(&series, "@", o.api, "_client");
  for (const auto& [ns, frac] : h.Cdf()) {
    out << o.transport << " " << series << " " << o.payload << " " << ns / 1e3 << " " << frac
        << " " << run.round() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  grpc_bypass::examples::SampleMain m("bench_client");
  const std::optional<Options> parsed = ParseOptions();
  if (!parsed) return 2;
  const Options& o = *parsed;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  grpc_bypass::bench::BenchService local_service;
  std::unique_ptr<grpc::Server> local_server;
  if (o.transport == "inproc") {
    grpc::ServerBuilder b;
    b.RegisterService(&local_service);
    b.SetMaxReceiveMessageSize(-1);
    b.SetMaxSendMessageSize(-1);
    local_server = b.BuildAndStart();
  }
  const Stubs stubs = MakeStubs(o, local_server.get(), o.channels, args);
  bench::Bench::Stub* const stub = stubs.For(0);
  // Idle connections: each connected by one call, then left alone until the end.
  const Stubs idle = MakeStubs(o, local_server.get(), o.idle_channels, args);
  for (const auto& s : idle.all) UnaryCall(s.get(), bench::Payload());
  bench::Payload req;
  req.set_data(std::string(o.payload, 'b'));
  const bool remote = o.transport != "inproc";
  // Sampled after the warm-up (measure()); the Cpu RPC itself is one more call in the server's
  // figure.
  bench::CpuReply server0;
  double cpu0 = 0;
  int64_t csw0 = 0;
  std::map<int, grpc_bypass::bench::ThreadSwitches> threads0;
  const MeasureFn measure = [&] {
    if (remote) server0 = ServerCpu(stub);
    cpu0 = SelfCpu();
    csw0 = grpc_bypass::bench::ProcessContextSwitches();
    threads0 = grpc_bypass::bench::SampleThreadSwitches();
  };
  const Result r = RunWorkload(o, stubs, req, measure);
  // The open loop's pacer is the load generator: its switches and CPU are reported apart
  // (gen_*), not as the client's.
  const double cpu = SelfCpu() - cpu0 - r.gen_cpu_s;
  const int64_t csw = grpc_bypass::bench::ProcessContextSwitches() - csw0 - r.gen_switches;
  if (absl::GetFlag(FLAGS_thread_csw)) {
    grpc_bypass::bench::PrintThreadSwitchesDelta(
        threads0, grpc_bypass::bench::SampleThreadSwitches(), r.ops, "client", stderr);
    if (o.workload == "unary" && o.api == "sync") {
      std::fprintf(stderr,
                   "THREAD_CSW client the %d caller thread(s), exited: %.3f per RPC (%.3f "
                   "involuntary)\n",
                   o.outstanding, static_cast<double>(caller_switches.load()) / r.ops,
                   static_cast<double>(caller_involuntary.load()) / r.ops);
    }
  }
  const bench::CpuReply server1 = remote ? ServerCpu(stub) : bench::CpuReply();
  const double server_cpu =
      server1.user_s() + server1.system_s() - server0.user_s() - server0.system_s();
  const int64_t server_csw = server1.context_switches() - server0.context_switches();

  bench::Run run;
  run.set_transport(o.transport);
  run.set_workload(o.workload);
  run.set_payload_bytes(o.payload);
  SetFigures(r, &run);
  // Neither includes the warm-up: the samples bracket the measured phase (and the two Cpu
  // RPCs).
  run.set_cpu_s_per_1k_rpcs(cpu / r.ops * 1000);
  run.set_server_cpu_s_per_1k_rpcs(server_cpu / r.ops * 1000);
  run.set_ctx_switches_per_rpc(static_cast<double>(csw) / r.ops);
  run.set_server_ctx_switches_per_rpc(static_cast<double>(server_csw) / r.ops);
  run.set_round(absl::GetFlag(FLAGS_round));
  run.set_server_api(remote ? server1.api() : "sync");
  run.set_client_api(o.workload == "unary_open_loop" ? "callback" : o.api);
  if (o.workload == "unary") {
    run.set_outstanding(o.outstanding);
    run.set_channels(o.channels);
    run.set_idle_channels(o.idle_channels);
  }
  if (o.workload == "unary_open_loop") {
    run.set_target_rate(o.rate);
    run.set_arrival(o.arrival);
    run.set_gen_lateness_p50_us(r.lateness.Percentile(0.5) / 1e3);
    run.set_gen_lateness_p99_us(r.lateness.Percentile(0.99) / 1e3);
    run.set_gen_ctx_switches_per_rpc(static_cast<double>(r.gen_switches) / r.ops);
    run.set_gen_cpu_s_per_1k_rpcs(r.gen_cpu_s / r.ops * 1000);
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(run, &json,
                                                    grpc_bypass::bench::ReportJsonOptions());
  std::printf("RUN %s\n", json.c_str());
  AppendCdf(o, run, r.hist);
  std::fflush(stdout);
  if (local_server) local_server->Shutdown();
  return 0;
}
