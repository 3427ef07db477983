#include "transport/dpdk/eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
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
  std::atomic<uint32_t> registered{0};           // threads holding an id from RegisterThread
  // Held while a thread takes an lcore id or flushes its caches and gives the id back: the id
  // (and its cache slots) passes from an exiting thread to the next one through this lock,
  // where ThreadSanitizer sees it (DPDK's own lock inside rte_thread_register it cannot).
  absl::Mutex lcore_mu;
};
Eal g_eal;

// Gives the calling lcore's cached objects back to `mp`'s common pool (rte_mempool_walk).
void FlushOwnCache(rte_mempool* mp, void* /*arg*/) {
  rte_mempool_cache* cache = rte_mempool_default_cache(mp, rte_lcore_id());
  if (cache != nullptr) rte_mempool_cache_flush(cache, mp);
}

// One per thread: whether RegisterThread ran, and the id to give back at thread exit.
struct ThreadLcore {
  enum State { kUnknown, kOwn, kRegistered, kRefused } state = kUnknown;
  ~ThreadLcore() {
    if (state != kRegistered) return;
    absl::MutexLock lock(&g_eal.lcore_mu);
    // Without this the cache stays behind in the lcore slot: seen, a sync server whose
    // thread manager started and ended threads under h2load 256 x 100 left 17 081 of
    // 18 432 mbufs in dead threads' caches, and TX failed 19 644 times (the stall).
    rte_mempool_walk(&FlushOwnCache, nullptr);
    rte_thread_unregister();
    g_eal.registered.fetch_sub(1, std::memory_order_relaxed);
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
  if (t.state == ThreadLcore::kUnknown && rte_lcore_id() != LCORE_ID_ANY) {
    t.state = ThreadLcore::kOwn;  // an EAL thread (the one that ran rte_eal_init)
    return true;
  }
  // Claim a slot under the cap first, so that racing threads never exceed it.
  uint32_t n = g_eal.registered.load(std::memory_order_relaxed);
  while (n < kMaxCachedThreads &&
         !g_eal.registered.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
  }
  if (n < kMaxCachedThreads) {  // claimed
    if (EalStarted()) {
      absl::MutexLock lock(&g_eal.lcore_mu);
      if (rte_thread_register() == 0) {
        t.state = ThreadLcore::kRegistered;
        return true;
      }
    }
    g_eal.registered.fetch_sub(1, std::memory_order_relaxed);
  }
  // A refused thread asks again on every turn it takes: only the atomic above, no lock.
  if (t.state == ThreadLcore::kRefused) return false;
  if (!EalStarted()) return false;  // not remembered: EAL may start later
  t.state = ThreadLcore::kRefused;  // counted once; tried again on later calls
  g_eal.without_lcore.fetch_add(1, std::memory_order_relaxed);
  return false;
}

uint64_t ThreadsWithoutLcore() { return g_eal.without_lcore.load(std::memory_order_relaxed); }

bool EalStarted() {
  absl::MutexLock lock(&g_eal.mu);
  return g_eal.started;
}

}  // namespace grpc_bypass::dpdk
