// Switches this process's gRPC (1.51, Debian's libgrpc) to the kernel bypass. Call once, at
// the start of main(), before any gRPC object exists:
//
//   int main() {
//     absl::Status st = grpc_bypass::Enable();  // reads BYPASS_* (see README)
//     if (!st.ok()) { fprintf(stderr, "%s\n", st.ToString().c_str()); return 2; }
//     ... the service as before: ServerBuilder, CreateChannel, stubs ...
//   }
//
// Addresses on the bypass interface (BYPASS_IP, BYPASS_IP6) go over DPDK; all others use
// the kernel, so one process can talk to both.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "transport/lwip/config.h"

namespace grpc_bypass {

struct Options {
  StackConfig stack;
  // A server listening on a wildcard address also listens on the kernel (BYPASS_KERNEL_TOO=1).
  bool wildcard_also_on_kernel = false;
  // Print a one-line summary of the counters to stderr at exit (BYPASS_SUMMARY=0 disables).
  bool summary_at_exit = true;
  // Publish the counters to this file every stats_interval, for `bypass_stat` (tools/stat).
  // BYPASS_STATS_FILE: a path, or "off"; default /dev/shm/grpc-bypass-<pid>.stats.
  // BYPASS_STATS_INTERVAL_MS: default 1000.
  std::string stats_file;  // empty: the default path
  bool stats_file_enabled = true;
  absl::Duration stats_interval = absl::Seconds(1);
};

// Options from BYPASS_* and --bypass_* (see StackConfigFromEnvironment).
absl::StatusOr<Options> OptionsFromEnvironment();
// Every BYPASS_* variable OptionsFromEnvironment reads (the launcher's config file keys).
std::vector<std::string> ConfigVariables();

// FailedPrecondition if called twice, after gRPC was initialized, or with a gRPC runtime
// other than the one the bridge was built against; the stack's errors otherwise.
absl::Status Enable();
absl::Status Enable(const Options& options);

// The process's counters, by name (any thread, after Enable()):
//   port<i>.<counter>     DPDK, per port: rx_packets, rx_bytes, rx_drops, rx_bad_cksum,
//                         rx_nombuf, tx_packets, tx_bytes, tx_retries, tx_drops, tx_nombuf,
//                         tx_backlog, mempool_in_use, mempool_size, mempool_in_caches
//                         (free mbufs held in per-thread caches), mac_learned,
//                         fault_drops, fault_reorders (BYPASS_FAULTS)
//   poll.<counter>        passes over the stack: iterations, idle_iterations, sleeps,
//                         rx_frames, input_frames, commands, timer_runs, tx_frames;
//                         where they ran: background_passes, wakeups, takeovers,
//                         spinners_wanted (a background pass found work, no one spun),
//                         spinner_away_passes (background passes beside a spinner stuck
//                         in application code: a blocking reaction),
//                         spin_passes, run_inline, run_posted, completions_run_by_poller
//   netif.<counter>       rx_runts (headers incomplete, dropped before lwIP),
//                         rx_input_errors, tx_nomem, tx_dropped
//   lwip.<counter>        tcp_rx, tcp_tx, tcp_drop, tcp_chkerr, tcp_memerr, ip_drop, heap_used,
//                         heap_max, heap_err, link_drop; pool.<NAME>.used|max|err per memp pool
//   engine.<counter>      endpoints_opened, endpoints_closed, bytes_read, bytes_written,
//                         write_stalls, early_flushes, completions_inline,
//                         completions_executor, runs_after_callback, runs_executor,
//                         runs_rescued (Run closures taken from a thread stuck for 10 ms
//                         in one closure and handed to the executor),
//                         executor_queued, executor_queued_max (EventEngine::Run closures
//                         and completions waiting for an executor thread: now, and the peak)
//   grpc.<counter>        pollset_spins, pollset_spins_kicked, pollset_yields_for_others,
//                         pollset_not_spun, pollset_kicks_other_worker,
//                         pollset_kicks_other_pollset (gRPC's pollers on the stack),
//                         pollset_kicks_owed, pollset_owed_taken, pollset_owed_passed_on
//                         (kicks a thread made of the queue it comes back to),
//                         bypass_connects, kernel_connects, bypass_binds, kernel_binds
//                         (routing decisions, engine/router.h: the same on every gRPC
//                         version), bypass_accepts, bypass_endpoints_open
// Gauges (a level that goes up and down, not a running count): port<i>.tx_backlog,
// mempool_in_use, mempool_size, mempool_in_caches, mac_learned; lwip.heap_used, heap_max and
// pool.<NAME>.used and .max; engine.executor_queued and executor_queued_max;
// grpc.bypass_endpoints_open.
struct Stats {
  std::vector<std::pair<std::string, uint64_t>> counters;  // in the order above
  std::vector<std::string> gauges;                         // the names that are gauges
  // The value of `name`, or 0 if there is no such counter.
  uint64_t Get(absl::string_view name) const;
  bool IsGauge(absl::string_view name) const;
};
// FailedPrecondition before Enable().
absl::StatusOr<Stats> GetStats();
// The format of the stats file: "name value" lines, "name value gauge" for gauges.
std::string FormatStats(const Stats& stats);

// One line: DPDK, lwIP and bridge counters (any thread, after Enable()).
std::string StatsSummary();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_ENABLE_H
