#include "transport/grpc/pollset_bridge.h"

#include "transport/grpc/pollset_abi.h"
// See pollset_bridge.h. gRPC's internals come from pollset_abi.h: gRPC's own headers on 1.51,
// our declarations on 1.83. On gRPC >= 1.60 a thread waiting on a completion queue still
// blocks in iomgr's pollset (grpc_posix_pollset_vtable, epoll1, unless the
// pollset_alternative experiment is on; off by default on 1.83), so the same bridge applies.
#if GRPC_BYPASS_POLLSET_BRIDGE

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>

#include <grpc/support/sync.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "transport/engine/engine_core.h"
#include "transport/lwip/idle_policy.h"

namespace grpc_bypass {
namespace {

// Owed kicks. A thread that returned from Work(ps) (to run what it was woken for) and, from
// there, completes an event of ps itself (a callback's send: the reply it just started) will
// find that event in ps's queue when it comes back to it: a kick "wake one waiter of ps" made
// by that thread is owed to it, not passed to epoll1, which would wake another waiter of ps
// for an event this thread pops a few microseconds later. That was gRPC 1.51's callback
// server: CallbackAlternativeCQ's two nexting threads woke each other for every reply's send,
// 3.4-4.1 context switches per RPC on the server. The next Work(ps), by any thread, takes the
// owed kick (returns at once: the event is queued). A thread that does not come back within
// kOwedFor (a reaction that blocks) has it passed on to epoll1 by the stack's background
// poller at its next wake-up (a pass, or a look every 2..16 ms), the same delay as the frames
// such a thread leaves behind. One owed kick at a time; another is passed on at once, as
// before. Cost per owed kick: one uncontended absl::Mutex and a clock read.
class OwedKick {
 public:
  static constexpr absl::Duration kOwedFor = absl::Microseconds(200);

  // With ps's mutex held (a kick). True: owed; the caller does not pass it on.
  bool Owe(grpc_pollset* ps) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (ps_ == nullptr && !delivering_) {
      ps_ = ps;
      since_ = absl::Now();
      any_.store(true, std::memory_order_release);
    }
    return ps_ == ps;
  }
  // With ps's mutex held (Work, Shutdown). True if a kick was owed to ps (now taken).
  bool Take(grpc_pollset* ps) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!any_.load(std::memory_order_acquire)) return false;
    absl::MutexLock lock(&mu_);
    if (ps_ != ps) return false;
    ClearLocked();
    return true;
  }
  // Before ps's memory goes (Destroy): waits out a hand-over in progress (rare, short).
  void Forget(grpc_pollset* ps) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](grpc_pollset** d) { return *d == nullptr; }, &delivering_));
    if (ps_ == ps) ClearLocked();
  }
  // The background poller, at each wake-up: a kick owed for longer than kOwedFor is passed to
  // `kick` (epoll1's), with ps's mutex held as gRPC kicks. True if one was.
  template <typename Kick>
  bool PassOnOverdue(Kick kick) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!any_.load(std::memory_order_acquire)) return false;
    grpc_pollset* ps;
    {
      absl::MutexLock lock(&mu_);
      if (ps_ == nullptr || delivering_ != nullptr || absl::Now() - since_ < kOwedFor) return false;
      ps = delivering_ = ps_;  // Forget(ps) waits from here on: ps stays valid
    }
    gpr_mu* ps_mu = reinterpret_cast<gpr_mu*>(ps);  // its first member (checked at init)
    gpr_mu_lock(ps_mu);
    bool owed;
    {
      absl::MutexLock lock(&mu_);
      owed = ps_ == ps;  // not taken by a Work(ps) or Shutdown(ps) meanwhile
      if (owed) ClearLocked();
    }
    if (owed) kick(ps);
    gpr_mu_unlock(ps_mu);
    absl::MutexLock lock(&mu_);
    delivering_ = nullptr;
    return owed;
  }

 private:
  void ClearLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ps_ = nullptr;
    any_.store(false, std::memory_order_release);
  }

  absl::Mutex mu_;  // after a pollset's mutex (kicks hold theirs), never before
  grpc_pollset* ps_ ABSL_GUARDED_BY(mu_) = nullptr;  // the pollset a kick is owed to
  absl::Time since_ ABSL_GUARDED_BY(mu_);
  grpc_pollset* delivering_ ABSL_GUARDED_BY(mu_) = nullptr;  // PassOnOverdue's, unlocked
  std::atomic<bool> any_{false};  // ps_ != nullptr, for the lock-free checks
};

// The bridge's state. One object, a global because gRPC's pollset vtable has no user data
// (the core: EngineCore::Get()); set by InstallPollsetBridge before gRPC uses the vtable.
struct Bridge {
  absl::Duration spin;         // BYPASS_POLL_US
  grpc_pollset_vtable posix;   // what we wrap (epoll1 through the posix vtable)
  grpc_pollset_vtable vtable;  // ours
  // The pollset the one spinning thread waits on, and whether it was kicked since. Set and
  // read with the pollset's mutex held on the kick side (gRPC kicks with it held), so a kick
  // is either seen here or left to epoll1 (kicked_without_poller), never lost.
  std::atomic<grpc_pollset*> spinning{nullptr};
  std::atomic<bool> kicked{false};
  // A kick for another waiter during the spin: that thread must get the core at once (on a
  // small machine the spinner and it share one), so the spinner yields it.
  std::atomic<bool> kicked_other{false};
  // epoll1 and poll both put the pollset's mutex first; checked at every init.
  std::atomic<bool> layout_ok{true};
  std::atomic<uint64_t> kicks_other_worker{0}, kicks_other_pollset{0};
  std::atomic<uint64_t> spins{0}, spins_kicked{0}, yields_for_others{0}, not_spun{0};
  std::atomic<uint64_t> kicks_owed{0}, owed_taken{0}, owed_passed_on{0};
  OwedKick owed;
  // Drains corked (DrainBatch): where a TX frame costs a system call (net_tap), not where
  // frames are cheap (memif, a NIC): there the wait cost more than the segments saved (a
  // 16-channel x 4 callback client over memif: RPC/s halved).
  bool drain_batches = false;
};
Bridge g_bridge;

// The pollset this thread last returned from Work on (it is back in that queue's loop, or
// in what that loop handed it), until its next Work.
thread_local grpc_pollset* t_away = nullptr;

void Init(grpc_pollset* ps, gpr_mu** mu) {
  g_bridge.posix.init(ps, mu);
  if (*mu != reinterpret_cast<gpr_mu*>(ps) && g_bridge.layout_ok.exchange(false)) {
    std::fprintf(stderr, "grpc-bypass: unexpected pollset layout; gRPC's pollers will not poll "
                         "the bypass stack (the background poller does)\n");
  }
}

void Shutdown(grpc_pollset* ps, grpc_closure* closure) {
  if (g_bridge.spinning.load(std::memory_order_acquire) == ps) g_bridge.kicked.store(true, std::memory_order_release);
  (void)g_bridge.owed.Take(ps);  // epoll1's shutdown kicks every waiter
  g_bridge.posix.shutdown(ps, closure);
}

void Destroy(grpc_pollset* ps) {
  g_bridge.owed.Forget(ps);
  // (Usually the thread that waited on it: a blocking call's own queue. Another thread's
  // t_away may still hold this address; a kick it makes of a new pollset at the same address,
  // from outside its Work, is then owed until a Work of it or the background poller's look.)
  if (t_away == ps) t_away = nullptr;
  g_bridge.posix.destroy(ps);
}

absl::Status Kick(grpc_pollset* ps, grpc_pollset_worker* worker) {
  grpc_pollset* spinning = g_bridge.spinning.load(std::memory_order_acquire);
  if (spinning == ps && worker == nullptr) {
    // "Wake one waiter of this pollset": the spinner is that waiter. Not passed on, so that
    // epoll1 does not also wake a thread blocked on it (which would find nothing to do and
    // then compete for the core with the spinner's handler).
    g_bridge.kicked.store(true, std::memory_order_release);
    return absl::OkStatus();
  }
  if (worker == nullptr && t_away == ps && g_bridge.owed.Owe(ps)) {
    g_bridge.kicks_owed.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();  // this thread comes back to ps's queue (OwedKick)
  }
  if (spinning != nullptr) {
    g_bridge.kicked_other.store(true, std::memory_order_release);
    (spinning == ps ? g_bridge.kicks_other_worker : g_bridge.kicks_other_pollset).fetch_add(1, std::memory_order_relaxed);
  }
  return g_bridge.posix.kick(ps, worker);
}

enum class SpinEnd { kKicked, kIdle };

// Spins on the stack until the pollset is kicked, the idle policy says idle (g_bridge.spin since
// the last work), or the deadline.
SpinEnd Spin(grpc_core::Timestamp deadline) {
  const int64_t left_ms = pollset_abi::MillisUntil(deadline);
  const absl::Time hard_end = left_ms > 3600 * 1000
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + absl::Milliseconds(std::max<int64_t>(0, left_ms));
  engine::EngineCore* core = engine::EngineCore::Get();
  Stack& stack = core->stack();
  IdlePolicy policy(g_bridge.spin);
  for (;;) {
    uint32_t work;
    {
      // chttp2 and the completion queue on this thread; EventEngine::Run closures they post
      // (Party wake-ups) too, after the flush, and what those put on the ExecCtx.
      engine::EngineCore::PollingScope scope(core);
      work = stack.Poll();
      if (work > 0) {
        do {
          pollset_abi::FlushExecCtx();
        } while (scope.Drain() > 0);
      }
    }
    if (g_bridge.kicked.load(std::memory_order_acquire)) return SpinEnd::kKicked;
    const IdlePolicy::Next next = policy.After(work);
    if (next == IdlePolicy::Next::kIdle) return SpinEnd::kIdle;
    // (Most waits have no deadline: no clock read for them; the policy reads the TSC.)
    if (hard_end != absl::InfiniteFuture() && absl::Now() >= hard_end) return SpinEnd::kIdle;
    // A waiter this thread's work kicked must get the core at once (on a small machine it
    // shares this one): yield now as well.
    const bool woke_other = g_bridge.kicked_other.exchange(false, std::memory_order_acq_rel);
    if (next == IdlePolicy::Next::kYield || woke_other) {
      if (woke_other) g_bridge.yields_for_others.fetch_add(1, std::memory_order_relaxed);
      sched_yield();
    }
  }
}

// `drained`: this thread's drain has just ended, and what it corked waits for a pass: the
// spin's first, or (when this thread does not spin) the background poller's, woken for it.
absl::Status SpinOrWait(grpc_pollset* ps, grpc_pollset_worker** worker,
                        grpc_core::Timestamp deadline, bool drained) {
  // (gRPC always calls pollset_work inside an ExecCtx; checked, as the bridge flushes it.)
  engine::EngineCore* core = engine::EngineCore::Get();
  engine::EngineCore::GrpcWaiter waiting(core);  // the executor's idle threads defer to us
  if (g_bridge.layout_ok.load(std::memory_order_relaxed) && pollset_abi::InExecCtx() &&
      core->stack().BeginSpin()) {
    gpr_mu* mu = reinterpret_cast<gpr_mu*>(ps);  // held by our caller
    g_bridge.kicked.store(false, std::memory_order_relaxed);
    g_bridge.kicked_other.store(false, std::memory_order_relaxed);
    g_bridge.spinning.store(ps, std::memory_order_release);
    gpr_mu_unlock(mu);
    const SpinEnd end = Spin(deadline);
    gpr_mu_lock(mu);
    // Under the pollset's mutex (kicks of this pollset hold it): a kick that comes now goes
    // to epoll1, which remembers it (kicked_without_poller) for the work call below.
    g_bridge.spinning.store(nullptr, std::memory_order_release);
    const bool kicked = g_bridge.kicked.load(std::memory_order_acquire);
    core->stack().EndSpin(/*idle=*/end == SpinEnd::kIdle && !kicked);
    g_bridge.spins.fetch_add(1, std::memory_order_relaxed);
    pollset_abi::InvalidateNow();
    if (kicked) {
      g_bridge.spins_kicked.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();  // the caller finds its event (epoll1 was not told of the kick)
    }
  } else {
    g_bridge.not_spun.fetch_add(1, std::memory_order_relaxed);
    if (drained) core->stack().WakeIfCorked();
  }
  return g_bridge.posix.work(ps, worker, deadline);
}

// gRPC's own completion-queue loops: the callback API's nexting threads (gRPC 1.51's
// CallbackAlternativeCQ, which run callback servers' and clients' reactions) and the sync
// server's thread manager. After a wait they run the handler of every event queued (the next
// ones without waiting again), then come back to wait. What a handler writes in that drain is
// corked to the thread's next wait (Stack::Batch), so the answers one drain writes to a
// connection leave as one segment rather than one each (h2load's 100 streams a connection).
// Only these threads: they always come back, whereas an application's thread may return from
// its call and block elsewhere. If one stays away (a handler that blocks), its corked output
// leaves with the next pass of any other thread, as the frames that arrive meanwhile do.
// Read once per thread: gRPC names its threads when it starts them (pthread_setname_np).
bool IsGrpcQueueLoop() {
  thread_local int is_loop = -1;
  if (is_loop < 0) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    const absl::string_view n(name);
    is_loop = n == "nexting_thread" || absl::StartsWith(n, "grpcpp_sync_se") ? 1 : 0;
  }
  return is_loop == 1;
}
// This thread's drain since its last wait (IsGrpcQueueLoop threads only). Ended without a
// turn here (Stack::Batch::LeaveToNextPass): at the next wait gRPC holds the pollset's mutex,
// under which no completion may run, and at the thread's exit (a sync server's thread manager
// ends threads after a handler) its other thread-local state (its mempool cache) may be gone.
// What it corked leaves with the next pass: this thread's own when it spins, else another
// thread's (the spinner's, or the background poller's, woken for it). The stack outlives
// every thread (EngineCore is never freed).
struct DrainBatch {
  std::optional<Stack::Batch> batch;
  // True if a drain was open (its corked output, if any, waits for a pass).
  bool End(bool wake) {
    if (!batch) return false;
    batch->LeaveToNextPass(wake);
    batch.reset();
    return true;
  }
  ~DrainBatch() { End(/*wake=*/true); }
};
thread_local DrainBatch t_drain;

absl::Status Work(grpc_pollset* ps, grpc_pollset_worker** worker, grpc_core::Timestamp deadline) {
  const bool drained = t_drain.End(/*wake=*/false);
  t_away = nullptr;
  absl::Status st;
  if (g_bridge.owed.Take(ps)) {
    g_bridge.owed_taken.fetch_add(1, std::memory_order_relaxed);  // its event is queued
    if (drained) engine::EngineCore::Get()->stack().WakeIfCorked();
  } else {
    st = SpinOrWait(ps, worker, deadline, drained);
  }
  t_away = ps;
  if (g_bridge.drain_batches && IsGrpcQueueLoop()) {
    t_drain.batch.emplace(&engine::EngineCore::Get()->stack());
  }
  return st;
}

}  // namespace

absl::Status InstallPollsetBridge(absl::Duration spin) {
  if (spin <= absl::ZeroDuration()) return absl::OkStatus();
  if (const char* e = std::getenv("GRPC_EXPERIMENTS"); e != nullptr) {
    for (absl::string_view x : absl::StrSplit(e, ',')) {
      if (absl::StripAsciiWhitespace(x) == "pollset_alternative") {
        return absl::FailedPreconditionError(
            "GRPC_EXPERIMENTS=pollset_alternative: gRPC's threads would not wait in the pollset "
            "that grpc-bypass polls from; remove it, or set BYPASS_POLL_US=0");
      }
    }
  }
  if (absl::Status st = pollset_abi::CheckPollsetAbi(); !st.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gRPC's pollset is not as grpc-bypass declares it (", st.message(),
        "); gRPC's pollers could not poll the bypass stack; set BYPASS_POLL_US=0 to run "
        "without them"));
  }
  g_bridge.spin = spin;
  g_bridge.drain_batches =
      engine::EngineCore::Get()->stack().device().offloads().tx_syscall_per_frame;
  g_bridge.posix = grpc_posix_pollset_vtable;
  g_bridge.vtable = g_bridge.posix;
  g_bridge.vtable.init = Init;
  g_bridge.vtable.shutdown = Shutdown;
  g_bridge.vtable.destroy = Destroy;
  g_bridge.vtable.work = Work;
  g_bridge.vtable.kick = Kick;
  grpc_set_pollset_vtable(&g_bridge.vtable);
  engine::EngineCore::Get()->stack().AddOnBackgroundWake([] {
    if (g_bridge.owed.PassOnOverdue([](grpc_pollset* ps) { (void)g_bridge.posix.kick(ps, nullptr); })) {
      g_bridge.owed_passed_on.fetch_add(1, std::memory_order_relaxed);
    }
  });
  return absl::OkStatus();
}

absl::Status pollset_abi::CheckPollsetAbi() {
  Dl_info info;
  void* entry = nullptr;  // the symbol's ELF entry (const ElfW(Sym)*)
  if (dladdr1(&grpc_posix_pollset_vtable, &info, &entry, RTLD_DL_SYMENT) == 0 ||
      entry == nullptr) {
    return absl::FailedPreconditionError("cannot find grpc_posix_pollset_vtable's symbol");
  }
  const auto* sym = static_cast<const ElfW(Sym)*>(entry);
  if (sym->st_size != sizeof(grpc_pollset_vtable)) {
    return absl::FailedPreconditionError(
        absl::StrCat("grpc_posix_pollset_vtable is ", sym->st_size, " bytes in ",
                     info.dli_fname ? info.dli_fname : "?", ", ", sizeof(grpc_pollset_vtable),
                     " as grpc-bypass declares it"));
  }
  const grpc_pollset_vtable& v = grpc_posix_pollset_vtable;
  if (!v.global_init || !v.global_shutdown || !v.init || !v.shutdown || !v.destroy || !v.work ||
      !v.kick || !v.pollset_size) {
    return absl::FailedPreconditionError("grpc_posix_pollset_vtable has an empty entry");
  }
  if (v.pollset_size() <= sizeof(gpr_mu) || v.pollset_size() > 64 * 1024) {
    return absl::FailedPreconditionError(
        absl::StrCat("gRPC's pollset is ", v.pollset_size(), " bytes: not the layout expected"));
  }
  return absl::OkStatus();
}

PollsetBridgeStats GetPollsetBridgeStats() {
  return PollsetBridgeStats{g_bridge.spins.load(), g_bridge.spins_kicked.load(), g_bridge.yields_for_others.load(),
                            g_bridge.not_spun.load(), g_bridge.kicks_other_worker.load(),
                            g_bridge.kicks_other_pollset.load(), g_bridge.kicks_owed.load(),
                            g_bridge.owed_taken.load(), g_bridge.owed_passed_on.load()};
}

}  // namespace grpc_bypass

#else   // gRPC 1.60-1.82: pollset_abi.h does not declare their internals (not verified).
namespace grpc_bypass {
absl::Status InstallPollsetBridge(absl::Duration) { return absl::OkStatus(); }
PollsetBridgeStats GetPollsetBridgeStats() { return {}; }
}  // namespace grpc_bypass
#endif  // GRPC_BYPASS_POLLSET_BRIDGE
