// Publishes the process's counters as a small text file in shared memory (/dev/shm), rewritten
// every interval, so that `bypass_stat` (tools/stat) can watch a running service without
// touching it. Format: one "name value" pair per line ("name value gauge" for a gauge), names
// stable (see FormatStats).
// The file is replaced atomically (write + rename), so a reader never sees half a snapshot.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_STATS_FILE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_STATS_FILE_H

#include <memory>
#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace grpc_bypass {

// The default path for this process: /dev/shm/grpc-bypass-<pid>.stats
std::string DefaultStatsFilePath();

class StatsFileWriter {
 public:
  // Writes snapshot() to `path` now and then every `interval` from its own thread. An error
  // creating the file is returned at once (one line); later write errors are ignored (the
  // next interval tries again).
  static absl::StatusOr<std::unique_ptr<StatsFileWriter>> Start(
      std::string path, absl::Duration interval, absl::AnyInvocable<std::string()> snapshot);
  ~StatsFileWriter();  // Stop()
  // Joins the thread and removes the file. Idempotent.
  void Stop();
  const std::string& path() const { return path_; }

 private:
  StatsFileWriter(std::string path, absl::Duration interval,
                  absl::AnyInvocable<std::string()> snapshot);
  absl::Status WriteOnce();
  void Loop();

  const std::string path_;
  const absl::Duration interval_;
  absl::AnyInvocable<std::string()> snapshot_;  // writer thread (and Start/Stop)
  absl::Notification stop_;
  std::thread thread_;
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_STATS_FILE_H
