// bypass_stat: watch a running grpc-bypass process's counters without touching it. Reads the
// stats file the process rewrites every second (BYPASS_STATS_FILE, default
// /dev/shm/grpc-bypass-<pid>.stats; "name value" lines, "name value gauge" for gauges).
//
//   bypass_stat                      lists the processes that publish stats
//   bypass_stat PID|FILE             prints every counter
//   bypass_stat --watch=1 PID|FILE   every second: the counters that changed, with their rate
//   --match=SUBSTRING                only counters whose name contains SUBSTRING
//   --count=N                        with --watch: stop after N rounds (0: until interrupted)
//   --prometheus [PID|FILE]          Prometheus text exposition format (every live process
//                                    when no PID is given), pid as a label
//   --textfile=DIR/NAME.prom         with --prometheus: write there (temporary file + rename)
//                                    for node_exporter's textfile collector; with --watch,
//                                    rewritten every interval
//
// Stats files of processes that no longer exist (killed before they could remove theirs) are
// removed when listed, and reported as gone when asked for.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

ABSL_FLAG(double, watch, 0, "seconds between samples; 0 prints once");
ABSL_FLAG(std::string, match, "", "only counters whose name contains this");
ABSL_FLAG(int, count, 0, "with --watch: number of samples (0: until interrupted)");
ABSL_FLAG(bool, prometheus, false, "print in Prometheus' text exposition format");
ABSL_FLAG(std::string, textfile, "",
          "with --prometheus: write to this file (for node_exporter's textfile collector)");

namespace {

constexpr char kDir[] = "/dev/shm";
constexpr char kPrefix[] = "grpc-bypass-";
constexpr char kSuffix[] = ".stats";

struct Value {
  uint64_t v = 0;
  bool gauge = false;
};
using Counters = std::map<std::string, Value>;

// The pid in a default stats file name (grpc-bypass-<pid>.stats), if it is one.
std::optional<int> PidOf(const std::string& path) {
  absl::string_view base = path;
  if (size_t slash = base.rfind('/'); slash != absl::string_view::npos) base.remove_prefix(slash + 1);
  if (!absl::ConsumePrefix(&base, kPrefix) || !absl::ConsumeSuffix(&base, kSuffix)) return {};
  int pid = 0;
  if (!absl::SimpleAtoi(base, &pid) || pid <= 0) return {};
  return pid;
}

// False only when the process certainly does not exist (ESRCH); EPERM means it does.
bool Alive(int pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

// Removes the stats file of a process that has exited. True if it was stale.
bool RemoveIfStale(const std::string& path) {
  std::optional<int> pid = PidOf(path);
  if (!pid || Alive(*pid)) return false;
  unlink(path.c_str());
  return true;
}

absl::StatusOr<Counters> Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": no such stats file (is the process running "
                                            "with grpc-bypass, and BYPASS_STATS_FILE not off?)"));
  }
  if (RemoveIfStale(path)) {
    return absl::NotFoundError(absl::StrCat("process ", *PidOf(path),
                                            " has exited; its stale stats file was removed"));
  }
  Counters c;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    Value v;
    if (f.size() < 2 || f.size() > 3 || !absl::SimpleAtoi(f[1], &v.v) ||
        (f.size() == 3 && f[2] != "gauge")) {
      return absl::DataLossError(absl::StrCat(path, ":", n, ": not a \"name value [gauge]\" line"));
    }
    v.gauge = f.size() == 3;
    c[f[0]] = v;
  }
  return c;
}

// The stats files of live processes; those of exited processes are removed.
std::vector<std::string> ListFiles() {
  std::vector<std::string> out;
  DIR* d = opendir(kDir);
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (!absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kSuffix)) continue;
    const std::string path = absl::StrCat(kDir, "/", name);
    if (RemoveIfStale(path)) {
      std::fprintf(stderr, "bypass_stat: removed %s (process %d has exited)\n", path.c_str(),
                   *PidOf(path));
      continue;
    }
    out.push_back(path);
  }
  closedir(d);
  return out;
}

std::string PathFor(const std::string& arg) {
  int pid = 0;
  if (absl::SimpleAtoi(arg, &pid)) return absl::StrCat(kDir, "/", kPrefix, pid, kSuffix);
  return arg;
}

// ---- Prometheus text exposition format (version 0.0.4) ----------------------------------------

std::string Sanitize(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

std::string EscapeLabel(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

// Our name -> family name and labels: port<i>.x -> port_x{port="i"},
// lwip.pool.<NAME>.x -> lwip_pool_x{pool="NAME"}, a.b -> a_b. Counters end in _total.
struct Family {
  std::string name, type, help;
  std::vector<std::string> samples;  // "name{labels} value"
};

void AddSample(std::map<std::string, Family>& families, const std::string& stat, const Value& v,
               std::optional<int> pid) {
  std::string base = stat, labels, help = stat;
  std::vector<std::string> parts = absl::StrSplit(stat, '.');
  if (parts.size() == 2 && absl::StartsWith(parts[0], "port") && parts[0].size() > 4) {
    base = "port." + parts[1];
    labels = absl::StrCat("port=\"", EscapeLabel(parts[0].substr(4)), "\"");
    help = "port<i>." + parts[1];
  } else if (parts.size() == 4 && parts[0] == "lwip" && parts[1] == "pool") {
    base = "lwip.pool." + parts[3];
    labels = absl::StrCat("pool=\"", EscapeLabel(parts[2]), "\"");
    help = "lwip.pool.<NAME>." + parts[3];
  }
  if (pid) labels = absl::StrCat("pid=\"", *pid, "\"", labels.empty() ? "" : ",", labels);
  const std::string name =
      absl::StrCat("grpc_bypass_", Sanitize(base), v.gauge ? "" : "_total");
  Family& f = families[name];
  f.name = name;
  f.type = v.gauge ? "gauge" : "counter";
  f.help = absl::StrCat("grpc-bypass ", v.gauge ? "gauge " : "counter ", help);
  f.samples.push_back(absl::StrCat(name, labels.empty() ? "" : "{" + labels + "}", " ", v.v));
}

absl::StatusOr<std::string> Prometheus(const std::vector<std::string>& paths,
                                       const std::string& match) {
  std::map<std::string, Family> families;
  for (const std::string& path : paths) {
    absl::StatusOr<Counters> c = Read(path);
    if (!c.ok()) {
      if (paths.size() == 1) return c.status();
      continue;  // one process among several ended between listing and reading
    }
    for (const auto& [stat, v] : *c) {
      if (absl::StrContains(stat, match)) AddSample(families, stat, v, PidOf(path));
    }
  }
  std::string out;
  for (const auto& [name, f] : families) {
    absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n# TYPE ", name, " ", f.type, "\n");
    for (const std::string& s : f.samples) absl::StrAppend(&out, s, "\n");
  }
  return out;
}

// Writes `text` to `path` through a temporary file in the same directory and a rename, so that
// node_exporter never reads half a file.
absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return absl::UnavailableError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) {
    unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(tmp, ": write failed"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

int RunPrometheus(const std::vector<char*>& args, const std::string& match) {
  const std::string textfile = absl::GetFlag(FLAGS_textfile);
  if (!textfile.empty() && !absl::EndsWith(textfile, ".prom")) {
    std::fprintf(stderr, "bypass_stat: --textfile=%s: node_exporter reads only *.prom files\n",
                 textfile.c_str());
    return 2;
  }
  const double watch = absl::GetFlag(FLAGS_watch);
  const int count = absl::GetFlag(FLAGS_count);
  for (int round = 1;; ++round) {
    std::vector<std::string> paths =
        args.size() >= 2 ? std::vector<std::string>{PathFor(args[1])} : ListFiles();
    absl::StatusOr<std::string> text = Prometheus(paths, match);
    if (!text.ok()) {
      std::fprintf(stderr, "bypass_stat: %s\n", std::string(text.status().message()).c_str());
      return 1;
    }
    if (textfile.empty()) {
      std::fputs(text->c_str(), stdout);
      std::fflush(stdout);
    } else if (absl::Status st = WriteAtomically(textfile, *text); !st.ok()) {
      std::fprintf(stderr, "bypass_stat: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    if (watch <= 0 || (count > 0 && round >= count)) return 0;
    std::this_thread::sleep_for(std::chrono::duration<double>(watch));
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "bypass_stat [--watch=SECONDS] [--match=S] [--prometheus [--textfile=F.prom]] [PID|FILE]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string match = absl::GetFlag(FLAGS_match);
  if (args.size() > 2) {
    std::fprintf(stderr, "bypass_stat: one PID or FILE, got %zu arguments\n", args.size() - 1);
    return 2;
  }
  if (absl::GetFlag(FLAGS_prometheus)) return RunPrometheus(args, match);
  if (!absl::GetFlag(FLAGS_textfile).empty()) {
    std::fprintf(stderr, "bypass_stat: --textfile needs --prometheus\n");
    return 2;
  }
  if (args.size() < 2) {
    std::vector<std::string> files = ListFiles();
    if (files.empty()) {
      std::printf("no grpc-bypass process publishes stats in %s\n", kDir);
      return 1;
    }
    for (const std::string& f : files) std::printf("%s\n", f.c_str());
    return 0;
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
      if (absl::StrContains(name, match)) {
        std::printf("%-36s %llu\n", name.c_str(), static_cast<unsigned long long>(v.v));
      }
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
      const uint64_t before = it == prev->end() ? 0 : it->second.v;
      if (v.v == before) continue;
      std::printf("%-36s %14llu  %+12.0f/s\n", name.c_str(), static_cast<unsigned long long>(v.v),
                  (static_cast<double>(v.v) - static_cast<double>(before)) / dt);
    }
    std::fflush(stdout);
    prev = std::move(cur);
  }
  return 0;
}
