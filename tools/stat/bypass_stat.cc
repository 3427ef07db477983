// bypass_stat: watch a running grpc-bypass process's counters without touching it. Reads the
// stats file the process rewrites every second (BYPASS_STATS_FILE, default
// /dev/shm/grpc-bypass-<pid>.stats; "name value" lines).
//
//   bypass_stat                      lists the processes that publish stats
//   bypass_stat PID|FILE             prints every counter
//   bypass_stat --watch=1 PID|FILE   every second: the counters that changed, with their rate
//   --match=SUBSTRING                only counters whose name contains SUBSTRING
//   --count=N                        with --watch: stop after N rounds (0: until interrupted)
#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(double, watch, 0, "seconds between samples; 0 prints once");
ABSL_FLAG(std::string, match, "", "only counters whose name contains this");
ABSL_FLAG(int, count, 0, "with --watch: number of samples (0: until interrupted)");

namespace {

constexpr char kDir[] = "/dev/shm";
constexpr char kPrefix[] = "grpc-bypass-";
constexpr char kSuffix[] = ".stats";

using Counters = std::map<std::string, uint64_t>;

absl::StatusOr<Counters> Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": no such stats file (is the process running "
                                            "with grpc-bypass, and BYPASS_STATS_FILE not off?)"));
  }
  Counters c;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t v = 0;
    if (f.size() != 2 || !absl::SimpleAtoi(f[1], &v)) {
      return absl::DataLossError(absl::StrCat(path, ":", n, ": not a \"name value\" line"));
    }
    c[f[0]] = v;
  }
  return c;
}

std::vector<std::string> ListFiles() {
  std::vector<std::string> out;
  DIR* d = opendir(kDir);
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (absl::StartsWith(name, kPrefix) && absl::EndsWith(name, kSuffix)) {
      out.push_back(absl::StrCat(kDir, "/", name));
    }
  }
  closedir(d);
  return out;
}

std::string PathFor(const std::string& arg) {
  int pid = 0;
  if (absl::SimpleAtoi(arg, &pid)) return absl::StrCat(kDir, "/", kPrefix, pid, kSuffix);
  return arg;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("bypass_stat [--watch=SECONDS] [--match=S] [PID|FILE]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string match = absl::GetFlag(FLAGS_match);
  if (args.size() < 2) {
    std::vector<std::string> files = ListFiles();
    if (files.empty()) {
      std::printf("no grpc-bypass process publishes stats in %s\n", kDir);
      return 1;
    }
    for (const std::string& f : files) std::printf("%s\n", f.c_str());
    return 0;
  }
  if (args.size() > 2) {
    std::fprintf(stderr, "bypass_stat: one PID or FILE, got %zu arguments\n", args.size() - 1);
    return 2;
  }
  const std::string path = PathFor(args[1]);
  absl::StatusOr<Counters> prev = Read(path);
  if (!prev.ok()) {
    std::fprintf(stderr, "bypass_stat: %s\n", std::string(prev.status().message()).c_str());
    return 1;
  }
  const double watch = absl::GetFlag(FLAGS_watch);
  if (watch <= 0) {
    for (const auto& [name, v] : *prev) {
      if (absl::StrContains(name, match)) std::printf("%-36s %llu\n", name.c_str(),
                                                      static_cast<unsigned long long>(v));
    }
    return 0;
  }
  const int count = absl::GetFlag(FLAGS_count);
  auto last = std::chrono::steady_clock::now();
  for (int round = 1; count == 0 || round <= count; ++round) {
    std::this_thread::sleep_for(std::chrono::duration<double>(watch));
    absl::StatusOr<Counters> cur = Read(path);
    if (!cur.ok()) {  // the process ended
      std::fprintf(stderr, "bypass_stat: %s\n", std::string(cur.status().message()).c_str());
      return 1;
    }
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    std::printf("--- %s, sample %d\n", path.c_str(), round);
    for (const auto& [name, v] : *cur) {
      if (!absl::StrContains(name, match)) continue;
      auto it = prev->find(name);
      const uint64_t before = it == prev->end() ? 0 : it->second;
      if (v == before) continue;
      std::printf("%-36s %14llu  %+12.0f/s\n", name.c_str(), static_cast<unsigned long long>(v),
                  (static_cast<double>(v) - static_cast<double>(before)) / dt);
    }
    std::fflush(stdout);
    prev = std::move(cur);
  }
  return 0;
}
