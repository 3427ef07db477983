#include "transport/dpdk/eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace grpc_bypass::dpdk {
namespace {

// EAL's state. A global because EAL is (rte_eal_init once per process).
struct Eal {
  absl::Mutex mu;
  bool started ABSL_GUARDED_BY(mu) = false;
  std::string args ABSL_GUARDED_BY(mu);
  cpu_set_t main_lcore_cpus ABSL_GUARDED_BY(mu);  // EAL's main lcore, after init
  std::atomic<uint64_t> without_lcore{0};        // threads that found no lcore id
};
Eal g_eal;

// One per thread: whether RegisterThread ran, and the id to give back at thread exit.
struct ThreadLcore {
  enum State { kUnknown, kOwn, kRegistered, kNone } state = kUnknown;
  ~ThreadLcore() {
    if (state == kRegistered) rte_thread_unregister();
  }
};
thread_local ThreadLcore t_lcore;

bool HasHugepages() {
  FILE* f = std::fopen("/proc/sys/vm/nr_hugepages", "r");
  if (f == nullptr) return false;
  long n = 0;
  bool ok = std::fscanf(f, "%ld", &n) == 1 && n > 0;
  std::fclose(f);
  return ok;
}

}  // namespace

absl::Status StartEal(const std::string& args) {
  absl::MutexLock lock(&g_eal.mu);
  if (g_eal.started) {
    if (args == g_eal.args) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "EAL already started with '", g_eal.args, "'; cannot restart it with '", args, "'"));
  }
  std::vector<std::string> parts = absl::StrSplit(args, ' ', absl::SkipWhitespace());
  const bool no_huge = args.find("--no-huge") != std::string::npos;
  if (!no_huge && !HasHugepages()) {
    return absl::FailedPreconditionError(
        "EAL needs hugepages but none are reserved (/proc/sys/vm/nr_hugepages is 0): add "
        "--no-huge to BYPASS_EAL, or reserve some (tools/setup --hugepages 256)");
  }
  std::vector<std::string> argv_s = {"grpc-bypass"};
  argv_s.insert(argv_s.end(), parts.begin(), parts.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  cpu_set_t before;
  const bool had_affinity =
      pthread_getaffinity_np(pthread_self(), sizeof(before), &before) == 0;
  int rc = rte_eal_init(static_cast<int>(argv_s.size()), argv.data());
  if (rc < 0) {
    const int e = rte_errno;
    return absl::InvalidArgumentError(absl::StrCat(
        "EAL init failed with '", args, "': ", rte_strerror(e),
        e == ENODEV ? " (a --vdev/-a names a PMD that is unknown or could not be loaded)" : ""));
  }
  g_eal.started = true;
  g_eal.args = args;
  pthread_getaffinity_np(pthread_self(), sizeof(g_eal.main_lcore_cpus), &g_eal.main_lcore_cpus);
  if (had_affinity) pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
  return absl::OkStatus();
}

bool PinToMainLcore() {
  absl::MutexLock lock(&g_eal.mu);
  if (!g_eal.started) return false;
  return pthread_setaffinity_np(pthread_self(), sizeof(g_eal.main_lcore_cpus),
                                &g_eal.main_lcore_cpus) == 0;
}

bool RegisterThread() {
  ThreadLcore& t = t_lcore;
  if (t.state == ThreadLcore::kOwn || t.state == ThreadLcore::kRegistered) return true;
  if (t.state == ThreadLcore::kNone) return false;
  if (rte_lcore_id() != LCORE_ID_ANY) {  // an EAL thread (the one that ran rte_eal_init)
    t.state = ThreadLcore::kOwn;
    return true;
  }
  if (!EalStarted()) return false;  // not remembered: EAL may start later
  if (rte_thread_register() == 0) {
    t.state = ThreadLcore::kRegistered;
    return true;
  }
  t.state = ThreadLcore::kNone;
  g_eal.without_lcore.fetch_add(1, std::memory_order_relaxed);
  return false;
}

uint64_t ThreadsWithoutLcore() { return g_eal.without_lcore.load(std::memory_order_relaxed); }

bool EalStarted() {
  absl::MutexLock lock(&g_eal.mu);
  return g_eal.started;
}

}  // namespace grpc_bypass::dpdk
