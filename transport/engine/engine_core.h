// What every LwipEventEngine object of the process shares: the one lwIP stack (and so the one
// DPDK datapath), the executor (EventEngine::Run, timers, DNS) and the timer thread. Started
// once, lives until exit.
//
// Completions of endpoints, connects and accepts run to completion (DESIGN.md, threading):
// on the thread whose pass over the stack produced them, right after it released the stack
// token, never through the executor; except in a turn taken inside a call of the public
// EventEngine API (Read/Write/Connect/~Endpoint take theirs with Stack::After::kOffload: the
// EventEngine contract forbids running a callback inline in its caller), then on the
// executor.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H

#include <atomic>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "transport/dpdk/counter.h"
#include "transport/engine/connector.h"
#include "transport/engine/router.h"
#include "transport/engine/executor.h"
#include "transport/engine/run_queue.h"
#include "transport/engine/timer_manager.h"
#include "transport/lwip/config.h"
#include "transport/lwip/stack.h"

namespace grpc_bypass::engine {

// Endpoint counters. Written by the token holder only (Counter's contract), read anywhere.
struct EngineCounters {
  Counter endpoints_opened, endpoints_closed;
  Counter reads;          // reads completed with data (each one gRPC parse round)
  Counter bytes_read;     // delivered to gRPC
  Counter bytes_written;  // accepted by lwIP's send buffer
  Counter write_stalls;   // a write waited for send-buffer room (back-pressure)
  Counter early_flushes;  // a bulk write sent frames before the rest was copied (WriteSome)
  // Where completions ran (any thread writes these).
  std::atomic<uint64_t> completions_inline{0};    // on the thread that polled them
  std::atomic<uint64_t> completions_executor{0};  // handed to the executor
  // EventEngine::Run closures (RunSoon).
  std::atomic<uint64_t> runs_after_callback{0};  // by the polling thread that posted them
  std::atomic<uint64_t> runs_executor{0};        // handed to the executor
  // Queued by a polling thread for itself and handed to the executor because that thread
  // stayed inside one closure for kRunStuck (RunQueue::Rescue).
  std::atomic<uint64_t> runs_rescued{0};
};

class EngineCore {
 public:
  // Starts the core with `config` the first time; later calls return the same core (their
  // config is ignored). Errors are one line (the Stack's).
  static absl::StatusOr<EngineCore*> Start(const StackConfig& config);
  // The running core, or nullptr. Any thread; lock-free (the pollset bridge asks per wait).
  // The one way to reach the core from code that gRPC's C vtables call (no user data).
  static EngineCore* Get();

  // Stops the stack (its background poller), then the executor (after what it has queued): for process exit,
  // before static destructors run. Afterwards no callback runs; the objects stay valid.
  void Shutdown();

  // Runs `fn` (a completion) as the file comment says: after this turn on this thread, or on
  // the executor (an offloading turn, or a thread that does not hold the token).
  void Deliver(absl::AnyInvocable<void()> fn);

  // EventEngine::Run: `fn` runs soon, never inside this call. On a thread inside a
  // PollingScope (a thread polling the stack: gRPC's waiter in the pollset bridge, an idle
  // executor thread) it runs on this thread when the scope's current work returns: gRPC's
  // Party wake-ups, callback-queue completions and reactors' OnDone then stay on the thread
  // that read the frame. Elsewhere on the executor, whose threads are woken only when none of
  // them is polling.
  void RunSoon(absl::AnyInvocable<void()> fn);
  // A polling thread inside one closure this long, with no closure queued or begun since, is
  // stuck: what it queued goes to the executor (RunQueue::Rescue), whose blocked workers take
  // it, and the stack polls beside it if it is the spinner. Looked at every kRescueEvery by
  // threads entering a PollingScope and at the background poller's wake-ups. (1 ms took busy
  // threads for stuck ones under h2load overload: see the README.)
  static constexpr absl::Duration kRunStuck = absl::Milliseconds(10);
  static constexpr absl::Duration kRescueEvery = absl::Microseconds(500);

  // Around a pass over the stack and the gRPC work it completes, on a thread that polls. The
  // outermost scope on a thread runs what RunSoon queued when it ends, and what that queues
  // (its thread's RunQueue).
  class PollingScope {
   public:
    explicit PollingScope(EngineCore* core);
    ~PollingScope();
    PollingScope(const PollingScope&) = delete;
    PollingScope& operator=(const PollingScope&) = delete;
    // Runs what is queued now (and what that queues); returns how many ran. 0 when nested.
    size_t Drain();

   private:
    EngineCore* core_;
    RunQueue* queue_;  // this thread's (outermost scope), or nullptr
    friend class EngineCore;
  };

  // Whether idle executor threads poll the stack (spin up to the configured BYPASS_POLL_US
  // after the last work, one spinner at a time, then block) and run what their passes
  // complete, so that EventEngine users get run to completion. On by default; off where
  // other threads do the spinning (gRPC 1.51's pollers, the pollset bridge) or with
  // BYPASS_IDLE=spin (the background poller spins).
  void SetWorkersPollWhenIdle(bool on) { workers_poll_.store(on, std::memory_order_relaxed); }

  // In scope while a thread waits for gRPC work in the pollset bridge (gRPC >= 1.60, where
  // the executor's threads also poll): idle executor threads do not start spinning, and a
  // spinning one stops, so that the waiting thread spins and runs what its frames complete
  // (run to completion for sync and completion-queue code; the executor's threads then poll
  // only where no thread waits on a completion queue: callback-API processes).
  class GrpcWaiter {
   public:
    explicit GrpcWaiter(EngineCore* core) : core_(core) {
      core_->grpc_waiters_.fetch_add(1, std::memory_order_acq_rel);
    }
    ~GrpcWaiter() { core_->grpc_waiters_.fetch_sub(1, std::memory_order_acq_rel); }
    GrpcWaiter(const GrpcWaiter&) = delete;
    GrpcWaiter& operator=(const GrpcWaiter&) = delete;

   private:
    EngineCore* core_;
  };

  Stack& stack() { return *stack_; }
  Executor& executor() { return *executor_; }
  TimerManager& timers() { return *timers_; }
  EngineCounters& counters() { return counters_; }
  Connector& connector() { return connector_; }
  Router& router() { return *router_; }

 private:
  EngineCore() = default;
  // An executor thread with nothing queued (Executor::IdleHook).
  void PollWhileIdle(absl::Duration spin, absl::FunctionRef<bool()> queued);
  // This thread's RunQueue, made and registered on its first use; unregistered and freed at
  // the thread's exit (QueueReaper, a thread_local), after which this returns nullptr.
  struct QueueReaper;
  static thread_local QueueReaper t_reaper_;
  RunQueue* ThreadQueue();
  void Unregister(RunQueue* q) ABSL_LOCKS_EXCLUDED(queues_mu_);
  // Every kRescueEvery (any thread; returns at once between): RunQueue::Rescue on each.
  void MaybeRescue() ABSL_LOCKS_EXCLUDED(queues_mu_);
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<TimerManager> timers_;
  std::unique_ptr<Router> router_;
  EngineCounters counters_;
  Connector connector_{this};  // every connect in flight
  std::atomic<bool> workers_poll_{true};
  std::atomic<int> grpc_waiters_{0};  // threads inside GrpcWaiter scopes
  absl::Mutex queues_mu_;
  absl::flat_hash_set<RunQueue*> queues_ ABSL_GUARDED_BY(queues_mu_);  // every thread's
  std::atomic<int64_t> next_rescue_ns_{0};  // absl::GetCurrentTimeNanos() of the next look
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
