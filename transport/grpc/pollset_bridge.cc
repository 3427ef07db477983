#include "transport/grpc/pollset_bridge.h"
#include "transport/grpc/grpc_version.h"
// Built on gRPC < 1.60 only for now, where it wraps iomgr's pollset, declared by gRPC's internal
// headers from Debian's source package; see pollset_bridge.h. gRPC >= 1.60 still waits on a
// completion queue in an iomgr pollset (grpc_posix_pollset_vtable, epoll1, unless the
// pollset_alternative experiment is on; off by default on 1.83) and libgrpc.so.56 still exports
// grpc_set_pollset_vtable, so the same bridge applies there; it needs the vtable declared by us
// (no internal headers are packaged for 1.83), and is not done yet: there, gRPC's work runs on
// the engine's executor threads, which poll the stack when idle.
#if !GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE

#include <grpc/support/log.h>
#include <grpc/support/sync.h>

#include <sched.h>

#include <atomic>
#include <chrono>

#include "src/core/lib/iomgr/exec_ctx.h"
#include "src/core/lib/iomgr/pollset.h"
#include "transport/engine/engine_core.h"

extern grpc_pollset_vtable grpc_posix_pollset_vtable;

namespace grpc_bypass {
namespace {

using Clock = std::chrono::steady_clock;

engine::EngineCore* g_core = nullptr;
Clock::duration g_spin{};
grpc_pollset_vtable g_posix;    // what we wrap (epoll1 through the posix vtable)
grpc_pollset_vtable g_vtable;
// The pollset the one spinning thread waits on, and whether it was kicked since. Set and
// read with the pollset's mutex held on the kick side (gRPC kicks with it held), so a kick
// is either seen here or left to epoll1 (kicked_without_poller), never lost.
std::atomic<grpc_pollset*> g_spinning{nullptr};
std::atomic<bool> g_kicked{false};
// A kick for another waiter during the spin: that thread must get the core at once (on a
// small machine the spinner and it share one), so the spinner yields it.
std::atomic<bool> g_kicked_other{false};
// epoll1 and poll both put the pollset's mutex first; checked at every init.
std::atomic<bool> g_layout_ok{true};
std::atomic<uint64_t> g_kicks_other_worker{0}, g_kicks_other_pollset{0};
std::atomic<uint64_t> g_spins{0}, g_spins_kicked{0}, g_yields_for_others{0}, g_not_spun{0};

void Init(grpc_pollset* ps, gpr_mu** mu) {
  g_posix.init(ps, mu);
  if (*mu != reinterpret_cast<gpr_mu*>(ps) && g_layout_ok.exchange(false)) {
    gpr_log(GPR_ERROR, "grpc-bypass: unexpected pollset layout; gRPC's pollers will not poll "
                       "the bypass stack (the background poller does)");
  }
}

void Shutdown(grpc_pollset* ps, grpc_closure* closure) {
  if (g_spinning.load(std::memory_order_acquire) == ps) g_kicked.store(true, std::memory_order_release);
  g_posix.shutdown(ps, closure);
}

grpc_error_handle Kick(grpc_pollset* ps, grpc_pollset_worker* worker) {
  grpc_pollset* spinning = g_spinning.load(std::memory_order_acquire);
  if (spinning == ps && worker == nullptr) {
    // "Wake one waiter of this pollset": the spinner is that waiter. Not passed on, so that
    // epoll1 does not also wake a thread blocked on it (which would find nothing to do and
    // then compete for the core with the spinner's handler).
    g_kicked.store(true, std::memory_order_release);
    return absl::OkStatus();
  }
  if (spinning != nullptr) {
    g_kicked_other.store(true, std::memory_order_release);
    (spinning == ps ? g_kicks_other_worker : g_kicks_other_pollset).fetch_add(1, std::memory_order_relaxed);
  }
  return g_posix.kick(ps, worker);
}

enum class SpinEnd { kKicked, kIdle };

// Spins on the stack until the pollset is kicked, another waiter is, `spin` has passed since
// the last work, or the deadline.
SpinEnd Spin(grpc_core::Timestamp deadline) {
  grpc_core::ExecCtx* ctx = grpc_core::ExecCtx::Get();
  ctx->InvalidateNow();
  const grpc_core::Duration left = deadline - ctx->Now();
  const Clock::time_point start = Clock::now();
  const Clock::time_point hard_end =
      left.millis() > 3600 * 1000 ? Clock::time_point::max()
                                  : start + std::chrono::milliseconds(std::max<int64_t>(0, left.millis()));
  Clock::time_point end = std::min(hard_end, start + g_spin);
  Stack& stack = g_core->stack();
  constexpr Clock::duration kBusyYield = std::chrono::microseconds(20);
  Clock::time_point last_yield = start;
  for (;;) {
    const uint32_t work = stack.Poll();
    if (ctx->HasWork()) ctx->Flush();  // chttp2, the completion queue: on this thread
    if (g_kicked.load(std::memory_order_acquire)) return SpinEnd::kKicked;
    const Clock::time_point now = Clock::now();
    if (work > 0) end = std::min(hard_end, now + g_spin);
    const bool woke_other = g_kicked_other.exchange(false, std::memory_order_acq_rel);
    if (work == 0 || woke_other || now - last_yield > kBusyYield) {
      // Threads of this process that share the core (a waiter we just woke, an application
      // thread woken by a timer, a pacer) run now, not when the scheduler's tick preempts
      // the spinner (up to 4 ms later); alone on the core this returns at once. Also while
      // busy, every kBusyYield.
      if (woke_other) g_yields_for_others.fetch_add(1, std::memory_order_relaxed);
      sched_yield();
      last_yield = now;
    }
    if (now >= end) return SpinEnd::kIdle;
  }
}

grpc_error_handle Work(grpc_pollset* ps, grpc_pollset_worker** worker,
                       grpc_core::Timestamp deadline) {
  if (g_layout_ok.load(std::memory_order_relaxed) && g_core->stack().BeginSpin()) {
    gpr_mu* mu = reinterpret_cast<gpr_mu*>(ps);  // held by our caller
    g_kicked.store(false, std::memory_order_relaxed);
    g_kicked_other.store(false, std::memory_order_relaxed);
    g_spinning.store(ps, std::memory_order_release);
    gpr_mu_unlock(mu);
    const SpinEnd end = Spin(deadline);
    gpr_mu_lock(mu);
    // Under the pollset's mutex (kicks of this pollset hold it): a kick that comes now goes
    // to epoll1, which remembers it (kicked_without_poller) for the work call below.
    g_spinning.store(nullptr, std::memory_order_release);
    const bool kicked = g_kicked.load(std::memory_order_acquire);
    g_core->stack().EndSpin(/*idle=*/end == SpinEnd::kIdle && !kicked);
    g_spins.fetch_add(1, std::memory_order_relaxed);
    grpc_core::ExecCtx::Get()->InvalidateNow();
    if (kicked) {
      g_spins_kicked.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();  // the caller finds its event (epoll1 was not told of the kick)
    }
  } else {
    g_not_spun.fetch_add(1, std::memory_order_relaxed);
  }
  return g_posix.work(ps, worker, deadline);
}

}  // namespace

void InstallPollsetBridge(engine::EngineCore* core, absl::Duration spin) {
  if (spin <= absl::ZeroDuration()) return;
  g_core = core;
  g_spin = std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(spin));
  g_posix = grpc_posix_pollset_vtable;
  g_vtable = g_posix;
  g_vtable.init = Init;
  g_vtable.shutdown = Shutdown;
  g_vtable.work = Work;
  g_vtable.kick = Kick;
  grpc_set_pollset_vtable(&g_vtable);
}

PollsetBridgeStats GetPollsetBridgeStats() {
  return PollsetBridgeStats{g_spins.load(), g_spins_kicked.load(), g_yields_for_others.load(),
                            g_not_spun.load(), g_kicks_other_worker.load(),
                            g_kicks_other_pollset.load()};
}

}  // namespace grpc_bypass

#else   // gRPC >= 1.60: not installed yet (see the top of this file).
namespace grpc_bypass {
void InstallPollsetBridge(engine::EngineCore*, absl::Duration) {}
PollsetBridgeStats GetPollsetBridgeStats() { return {}; }
}  // namespace grpc_bypass
#endif  // !GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
