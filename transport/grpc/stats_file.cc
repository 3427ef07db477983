#include "transport/grpc/stats_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace grpc_bypass {

std::string DefaultStatsFilePath() {
  return absl::StrCat("/dev/shm/grpc-bypass-", getpid(), ".stats");
}

StatsFileWriter::StatsFileWriter(std::string path, absl::Duration interval,
                                 absl::AnyInvocable<std::string()> snapshot)
    : path_(std::move(path)), interval_(interval), snapshot_(std::move(snapshot)) {}

absl::StatusOr<std::unique_ptr<StatsFileWriter>> StatsFileWriter::Start(
    std::string path, absl::Duration interval, absl::AnyInvocable<std::string()> snapshot) {
  std::unique_ptr<StatsFileWriter> w(
      new StatsFileWriter(std::move(path), interval, std::move(snapshot)));
  absl::Status st = w->WriteOnce();
  if (!st.ok()) return st;
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

absl::Status StatsFileWriter::WriteOnce() {
  const std::string tmp = absl::StrCat(path_, ".tmp");
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("BYPASS_STATS_FILE: cannot create ", tmp,
                                                   ": ", std::strerror(errno)));
  }
  const std::string text = snapshot_();
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path_, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

void StatsFileWriter::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) (void)WriteOnce();
}

void StatsFileWriter::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
  std::remove(path_.c_str());
}

StatsFileWriter::~StatsFileWriter() { Stop(); }

}  // namespace grpc_bypass
