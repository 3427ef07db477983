#include "transport/grpc/enable.h"

#include <grpc/grpc.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "transport/engine/engine_core.h"
#include "transport/grpc/grpc_version.h"
#include "transport/grpc/iomgr_bridge.h"
#include "transport/grpc/pollset_bridge.h"
#include "transport/grpc/routing_engine.h"
#include "transport/grpc/stats_file.h"
#include "transport/grpc/version_check.h"

namespace grpc_bypass {
namespace {

// What Enable() set up. A global because atexit's callback (AtExit) has no user data.
struct Enabled {
  absl::Mutex mu;
  bool enabled ABSL_GUARDED_BY(mu) = false;
  // Set in Enable() before AtExit is registered, then only read.
  bool summary_at_exit = true;
  StatsFileWriter* stats_file = nullptr;  // stopped at exit, never freed
};
Enabled g_enabled;

// Runs before gRPC's static destructors (registered after they were constructed): print the
// summary, then stop our threads so that nothing calls into gRPC while it is torn down.
void AtExit() {
  if (g_enabled.stats_file != nullptr) g_enabled.stats_file->Stop();
  if (g_enabled.summary_at_exit) std::fprintf(stderr, "%s\n", StatsSummary().c_str());
  engine::EngineCore::Get()->Shutdown();
}

}  // namespace

absl::StatusOr<Options> OptionsFromEnvironment() {
  absl::StatusOr<StackConfig> stack = StackConfigFromEnvironment();
  if (!stack.ok()) return stack.status();
  Options o;
  o.stack = *stack;
  const char* k = std::getenv("BYPASS_KERNEL_TOO");
  o.wildcard_also_on_kernel = k != nullptr && std::string(k) == "1";
  const char* sum = std::getenv("BYPASS_SUMMARY");
  o.summary_at_exit = sum == nullptr || std::string(sum) != "0";
  if (const char* f = std::getenv("BYPASS_STATS_FILE"); f != nullptr && *f != '\0') {
    if (std::string(f) == "off") {
      o.stats_file_enabled = false;
    } else {
      o.stats_file = f;
    }
  }
  if (const char* ms = std::getenv("BYPASS_STATS_INTERVAL_MS"); ms != nullptr && *ms != '\0') {
    int v = 0;
    if (!absl::SimpleAtoi(ms, &v) || v < 10 || v > 3600000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "BYPASS_STATS_INTERVAL_MS=", ms, ": expected milliseconds between 10 and 3600000"));
    }
    o.stats_interval = absl::Milliseconds(v);
  }
  return o;
}

std::vector<std::string> ConfigVariables() {
  std::vector<std::string> v = StackConfigVariables();
  for (const char* n : {"BYPASS_KERNEL_TOO", "BYPASS_SUMMARY", "BYPASS_STATS_FILE",
                        "BYPASS_STATS_INTERVAL_MS"}) {
    v.push_back(n);
  }
  return v;
}

absl::Status Enable() {
  absl::StatusOr<Options> o = OptionsFromEnvironment();
  if (!o.ok()) return o.status();
  return Enable(*o);
}

absl::Status Enable(const Options& options) {
  absl::MutexLock lock(&g_enabled.mu);
  if (g_enabled.enabled) return absl::FailedPreconditionError("grpc_bypass::Enable() was already called");
  absl::Status st = CheckGrpcRuntimeVersion();
  if (!st.ok()) return st;
  if (grpc_is_initialized()) {
    return absl::FailedPreconditionError(
        "grpc_bypass::Enable() called too late: gRPC is already initialized; call it at the "
        "start of main(), before any gRPC server, channel or stub exists");
  }
  absl::StatusOr<engine::EngineCore*> core = engine::EngineCore::Start(options.stack);
  if (!core.ok()) return core.status();
  engine::EngineCore* const c = *core;
  c->router().SetWildcardAlsoOnKernel(options.wildcard_also_on_kernel);
#if GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
  // gRPC >= 1.60: TCP goes through gRPC's EventEngine; ours routes. Threads waiting on a
  // completion queue (sync servers, blocking and async calls) spin on the stack in the
  // pollset bridge (gRPC 1.83); the engine's executor threads poll it when idle and no such
  // thread waits (callback-API code). So the background poller only blocks unless
  // BYPASS_IDLE=spin.
  InstallRoutingEngine(c);
  // Every pass over the stack is a polling thread's (EngineCore::PollingScope): the
  // EventEngine::Run closures that its completions post (callback-queue completions, Party
  // wake-ups, reactors' OnDone) run on that thread once they return, the background poller
  // included. Without it the background poller parsed every request it read and handed the
  // handlers to the executor: under h2load 256 x 100 the executor's queue held 20 000-28 700
  // closures, each holding a call and its arena, and the server's RSS reached
  // 1 GiB (gRPC 1.83, callback server). Now what a pass reads is answered before the next.
  c->stack().SetScope([c](absl::FunctionRef<void()> pass) {
    engine::EngineCore::PollingScope scope(c);
    pass();
  });
  grpc_init();
  if (!options.stack.idle.spin_forever && options.stack.idle.spin > absl::ZeroDuration()) {
    c->stack().SpinInBackground(false);
    if (absl::Status st = InstallPollsetBridge(options.stack.idle.spin); !st.ok()) return st;
  }
#else
  // The first grpc_init fixes the iomgr platform (installing the posix vtables); ours go on
  // top and stay for later init/shutdown cycles. This reference is kept for the process.
  grpc_init();
  InstallIomgrBridge(c);
  // gRPC's pollers spin on the stack (run to completion); the background poller then only
  // blocks. BYPASS_IDLE=spin keeps a dedicated spinning poller instead.
  // The executor's threads (DNS, timers, Run closures here) do not spin beside them.
  c->SetWorkersPollWhenIdle(false);
  if (!options.stack.idle.spin_forever && options.stack.idle.spin > absl::ZeroDuration()) {
    c->stack().SpinInBackground(false);
    if (absl::Status st = InstallPollsetBridge(options.stack.idle.spin); !st.ok()) return st;
  }
#endif
  if (options.stats_file_enabled) {
    absl::StatusOr<std::unique_ptr<StatsFileWriter>> w = StatsFileWriter::Start(
        options.stats_file.empty() ? DefaultStatsFilePath() : options.stats_file,
        options.stats_interval, [] {
          absl::StatusOr<Stats> s = GetStats();
          return s.ok() ? FormatStats(*s) : std::string();
        });
    if (!w.ok()) return w.status();
    g_enabled.stats_file = w->release();
  }
  g_enabled.enabled = true;
  g_enabled.summary_at_exit = options.summary_at_exit;
  std::atexit(AtExit);
  return absl::OkStatus();
}

uint64_t Stats::Get(absl::string_view name) const {
  for (const auto& [n, v] : counters) {
    if (n == name) return v;
  }
  return 0;
}

namespace {

// Builds Stats: counters in order, and which of them are gauges.
struct StatsBuilder {
  Stats s;
  void add(std::string name, uint64_t v) { s.counters.emplace_back(std::move(name), v); }
  void gauge(std::string name, uint64_t v) {
    s.gauges.push_back(name);
    add(std::move(name), v);
  }
};

void AddPortStats(StatsBuilder& b, Stack& stack) {
  for (const dpdk::PortQueueStats& q : stack.device().Stats()) {
    const std::string p = absl::StrCat("port", q.port_id, ".");
    b.add(p + "rx_packets", q.rx_packets);
    b.add(p + "rx_bytes", q.rx_bytes);
    b.add(p + "rx_drops", q.rx_drops);
    b.add(p + "rx_bad_cksum", q.rx_bad_cksum);
    b.add(p + "rx_nombuf", q.rx_nombuf);
    b.add(p + "tx_packets", q.tx_packets);
    b.add(p + "tx_bytes", q.tx_bytes);
    b.add(p + "tx_retries", q.tx_retries);
    b.add(p + "tx_drops", q.tx_drops);
    b.add(p + "tx_nombuf", q.tx_nombuf);
    b.gauge(p + "tx_backlog", q.tx_backlog);
    b.gauge(p + "mempool_in_use", q.mempool_in_use);
    b.gauge(p + "mempool_size", q.mempool_size);
    b.gauge(p + "mempool_in_caches", q.mempool_in_caches);
    b.gauge(p + "mac_learned", q.mac_learned);
    b.add(p + "fault_drops", q.fault_drops);
    b.add(p + "fault_reorders", q.fault_reorders);
  }
}

void AddPollStats(StatsBuilder& b, Stack& stack) {
  const PollStats ps = stack.poll_stats();
  b.add("poll.iterations", ps.iterations);
  b.add("poll.idle_iterations", ps.idle_iterations);
  b.add("poll.sleeps", ps.sleeps);
  b.add("poll.rx_frames", ps.rx_frames);
  b.add("poll.input_frames", ps.input_frames);
  b.add("poll.commands", ps.commands);
  b.add("poll.timer_runs", ps.timer_runs);
  b.add("poll.tx_frames", ps.tx_frames);
  b.add("poll.background_passes", ps.background_passes);
  b.add("poll.wakeups", ps.wakeups);
  b.add("poll.takeovers", ps.takeovers);
  b.add("poll.spinners_wanted", ps.spinners_wanted);
  b.add("poll.spinner_away_passes", ps.spinner_away_passes);
  b.add("poll.watch_sleeps", ps.watch_sleeps);
  b.add("poll.spin_passes", ps.spin_passes);
  b.add("poll.run_inline", ps.inline_runs);
  b.add("poll.run_posted", ps.posted_runs);
  b.add("poll.completions_run_by_poller", ps.deferred_run);
  b.add("poll.threads_without_lcore", ps.threads_without_lcore);
  b.add("poll.corked_output", ps.corked_output);
}

void AddLwipStats(StatsBuilder& b, Stack& stack) {
  const LwipStats l = stack.GetLwipStats();  // one turn on the stack
  b.add("netif.rx_runts", l.netif_rx_runts);
  b.add("netif.rx_input_errors", l.netif_rx_input_errors);
  b.add("netif.tx_nomem", l.netif_tx_nomem);
  b.add("netif.tx_dropped", l.netif_tx_dropped);
  b.add("netif.tx_zero_copy", l.netif_tx_zero_copy);
  b.add("lwip.tcp_rx", l.tcp_rx);
  b.add("lwip.tcp_tx", l.tcp_tx);
  b.add("lwip.tcp_drop", l.tcp_drop);
  b.add("lwip.tcp_chkerr", l.tcp_chkerr);
  b.add("lwip.tcp_memerr", l.tcp_memerr);
  b.add("lwip.ip_drop", l.ip_drop);
  b.gauge("lwip.heap_used", l.heap_used);
  b.gauge("lwip.heap_max", l.heap_max);
  b.add("lwip.heap_err", l.heap_err);
  b.add("lwip.link_drop", l.link_drop);
  for (const LwipStats::Pool& pool : l.pools) {
    b.gauge(absl::StrCat("lwip.pool.", pool.name, ".used"), pool.used);
    b.gauge(absl::StrCat("lwip.pool.", pool.name, ".max"), pool.max);
    b.add(absl::StrCat("lwip.pool.", pool.name, ".err"), pool.err);
  }
}

void AddEngineAndGrpcStats(StatsBuilder& b, engine::EngineCore* core) {
  engine::EngineCounters& e = core->counters();
  b.add("engine.endpoints_opened", e.endpoints_opened.Get());
  b.add("engine.endpoints_closed", e.endpoints_closed.Get());
  b.add("engine.reads", e.reads.Get());
  b.add("engine.bytes_read", e.bytes_read.Get());
  b.add("engine.bytes_written", e.bytes_written.Get());
  b.add("engine.write_stalls", e.write_stalls.Get());
  b.add("engine.early_flushes", e.early_flushes.Get());
  b.add("engine.completions_inline", e.completions_inline.load());
  b.add("engine.completions_executor", e.completions_executor.load());
  b.add("engine.runs_after_callback", e.runs_after_callback.load());
  b.add("engine.runs_rescued", e.runs_rescued.load());
  b.add("engine.runs_executor", e.runs_executor.load());
  b.gauge("engine.executor_queued", core->executor().QueuedNow());
  b.gauge("engine.executor_queued_max", core->executor().QueuedMax());
  const PollsetBridgeStats pb = GetPollsetBridgeStats();
  b.add("grpc.pollset_spins", pb.spins);
  b.add("grpc.pollset_spins_kicked", pb.spins_kicked);
  b.add("grpc.pollset_yields_for_others", pb.yields_for_others);
  b.add("grpc.pollset_not_spun", pb.not_spun);
  b.add("grpc.pollset_kicks_other_worker", pb.kicks_other_worker);
  b.add("grpc.pollset_kicks_other_pollset", pb.kicks_other_pollset);
  b.add("grpc.pollset_kicks_owed", pb.kicks_owed);
  b.add("grpc.pollset_owed_taken", pb.owed_taken);
  b.add("grpc.pollset_owed_passed_on", pb.owed_passed_on);
  // Routing: the same counters on every gRPC version (engine/router.h).
  const engine::RoutingCounters r = core->router().counters();
  b.add("grpc.bypass_connects", r.bypass_connects);
  b.add("grpc.kernel_connects", r.kernel_connects);
  b.add("grpc.bypass_binds", r.bypass_binds);
  b.add("grpc.kernel_binds", r.kernel_binds);
  b.add("grpc.bypass_accepts", r.bypass_accepts);
  b.gauge("grpc.bypass_endpoints_open", GetBridgeStats().bypass_endpoints_open);
}

}  // namespace

absl::StatusOr<Stats> GetStats() {
  engine::EngineCore* core = engine::EngineCore::Get();
  if (core == nullptr) return absl::FailedPreconditionError("grpc-bypass is not enabled");
  StatsBuilder b;
  Stack& stack = core->stack();
  AddPortStats(b, stack);
  AddPollStats(b, stack);
  AddLwipStats(b, stack);
  AddEngineAndGrpcStats(b, core);
  return b.s;
}

bool Stats::IsGauge(absl::string_view name) const {
  for (const std::string& g : gauges) {
    if (g == name) return true;
  }
  return false;
}

std::string FormatStats(const Stats& stats) {
  std::string out;
  for (const auto& [name, v] : stats.counters) {
    absl::StrAppend(&out, name, " ", v, stats.IsGauge(name) ? " gauge\n" : "\n");
  }
  return out;
}

std::string StatsSummary() {
  engine::EngineCore* core = engine::EngineCore::Get();
  if (core == nullptr) return "grpc-bypass: not enabled";
  const engine::RoutingCounters r = core->router().counters();
  return absl::StrCat(core->stack().Summary(), " | grpc bypass connects ", r.bypass_connects,
                      " accepts ", r.bypass_accepts, " kernel connects ", r.kernel_connects,
                      " open endpoints ", GetBridgeStats().bypass_endpoints_open);
}

}  // namespace grpc_bypass
