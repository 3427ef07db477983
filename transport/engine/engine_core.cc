#include "transport/engine/engine_core.h"

#include <sched.h>

#include <algorithm>
#include <thread>

#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "transport/lwip/idle_policy.h"

namespace grpc_bypass::engine {
namespace {
// Globals because the core is the process's one (lwIP is process-wide), reached from gRPC's
// C vtables that have no user data (EngineCore::Get). g_mu serialises Start.
absl::Mutex g_mu;
// Never freed: lives until exit; set once under g_mu.
std::atomic<EngineCore*> g_core{nullptr};
}  // namespace

absl::StatusOr<EngineCore*> EngineCore::Start(const StackConfig& config) {
  absl::MutexLock lock(&g_mu);
  if (EngineCore* running = g_core.load(std::memory_order_acquire)) return running;
  absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Start(config);
  if (!stack.ok()) return stack.status();
  auto* core = new EngineCore();
  core->stack_ = *std::move(stack);
  core->router_ = std::make_unique<Router>(config);
  const int n = std::max(2u, std::thread::hardware_concurrency());
  if (config.idle.spin_forever) core->workers_poll_.store(false);
  core->executor_ = std::make_unique<Executor>(
      n, [core, spin = config.idle.spin](absl::FunctionRef<bool()> queued) {
        core->PollWhileIdle(spin, queued);
      });
  core->timers_ = std::make_unique<TimerManager>(core->executor_.get());
  // The executor's spinner can go idle while the background poller takes the frames first;
  // then every executor thread blocks, and nothing wakes one to spin again while no closure
  // is queued: the background poller alone served the traffic, a 50 us sleep and a context
  // switch per pass (gRPC 1.83, callback client: 0.34-0.71 switches per RPC). Wake one.
  core->stack_->SetSpinnerWanted([core] {
    if (core->workers_poll_.load(std::memory_order_relaxed) &&
        core->grpc_waiters_.load(std::memory_order_acquire) == 0) {
      core->executor_->NudgeIdle();
    }
  });
  // A thread stuck in a closure while no other thread polls: the background poller's looks
  // (every 2-16 ms while another thread spins) find it.
  core->stack_->AddOnBackgroundWake([core] { core->MaybeRescue(); });
  core->stack_->SetOffload([core](absl::AnyInvocable<void()> fn) {
    core->counters_.completions_executor.fetch_add(1, std::memory_order_relaxed);
    core->executor_->Run(std::move(fn));
  });
  g_core.store(core, std::memory_order_release);
  return core;
}

void EngineCore::Shutdown() {
  stack_->Stop();
  executor_->Stop();
}

namespace {
thread_local EngineCore::PollingScope* t_polling = nullptr;  // this thread's outermost scope

// This thread's RunQueue. Trivially destructible, so that code running after the thread's
// C++ thread-local destructors (its exit, and atexit handlers on the main thread) still sees
// nullptr and gone = true rather than a destroyed object.
thread_local RunQueue* t_queue = nullptr;
thread_local bool t_queue_gone = false;
}  // namespace

// Frees the thread's RunQueue when the thread ends (the core, the process's one, is never
// freed).
struct EngineCore::QueueReaper {
  EngineCore* core = nullptr;
  ~QueueReaper() {
    t_queue_gone = true;
    if (t_queue == nullptr) return;
    core->Unregister(t_queue);
    delete t_queue;
    t_queue = nullptr;
  }
};
thread_local EngineCore::QueueReaper EngineCore::t_reaper_;

RunQueue* EngineCore::ThreadQueue() {
  if (t_queue == nullptr && !t_queue_gone) {
    t_reaper_.core = this;  // (its first use here registers its destructor)
    t_queue = new RunQueue();
    absl::MutexLock lock(&queues_mu_);
    queues_.insert(t_queue);
  }
  return t_queue;
}

void EngineCore::Unregister(RunQueue* q) {
  absl::MutexLock lock(&queues_mu_);
  queues_.erase(q);
}

void EngineCore::MaybeRescue() {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t due = next_rescue_ns_.load(std::memory_order_relaxed);
  if (now < due || !next_rescue_ns_.compare_exchange_strong(
                       due, now + absl::ToInt64Nanoseconds(kRescueEvery),
                       std::memory_order_relaxed)) {
    return;
  }
  size_t rescued = 0;
  absl::InlinedVector<std::thread::id, 2> stuck;
  {
    absl::MutexLock lock(&queues_mu_);  // (a thread's exit waits: its queue stays valid here)
    for (RunQueue* q : queues_) {
      const RunQueue::Rescued r = q->Rescue(absl::FromUnixNanos(now), kRunStuck,
                                            [this](RunQueue::Fn fn) { executor_->Run(std::move(fn)); });
      if (r.stuck) {
        stuck.push_back(q->owner());
        stack_->SpinnerStuck(q->owner());
      }
      rescued += r.moved;
    }
  }
  if (rescued > 0) counters_.runs_rescued.fetch_add(rescued, std::memory_order_relaxed);
  // The stuck thread may be an executor worker in its idle hook, for which the blocked
  // workers leave what is queued, and the stack's spinner: neither must be waited for now.
  for (std::thread::id t : stuck) executor_->IdlerStuck(t);
}

EngineCore::PollingScope::PollingScope(EngineCore* core) : core_(core), queue_(nullptr) {
  if (t_polling != nullptr) return;
  queue_ = core->ThreadQueue();
  if (queue_ == nullptr) return;  // the thread is ending: RunSoon uses the executor
  t_polling = this;
  core->MaybeRescue();
}

EngineCore::PollingScope::~PollingScope() {
  if (queue_ == nullptr) return;
  Drain();
  t_polling = nullptr;
}

size_t EngineCore::PollingScope::Drain() {
  if (queue_ == nullptr) return 0;
  const size_t ran = queue_->RunAll();  // closures may queue more: they run too, in order
  core_->counters_.runs_after_callback.fetch_add(ran, std::memory_order_relaxed);
  return ran;
}

void EngineCore::RunSoon(absl::AnyInvocable<void()> fn) {
  if (PollingScope* scope = t_polling; scope != nullptr && scope->core_ == this) {
    scope->queue_->Push(std::move(fn));
    return;
  }
  counters_.runs_executor.fetch_add(1, std::memory_order_relaxed);
  executor_->Run(std::move(fn));
}

void EngineCore::PollWhileIdle(absl::Duration spin, absl::FunctionRef<bool()> queued) {
  if (!workers_poll_.load(std::memory_order_relaxed) || spin <= absl::ZeroDuration()) return;
  auto waiters = [this] { return grpc_waiters_.load(std::memory_order_acquire) > 0; };
  if (waiters() || !stack_->BeginSpin()) return;  // a gRPC waiter or another thread spins
  IdlePolicy policy(spin);  // (transport/lwip/idle_policy.h: the same as every poller's)
  bool idle = false;
  while (!queued() && !waiters()) {
    uint32_t work;
    {
      Stack::Batch batch(stack_.get());  // what the scope's closures write leaves together
      PollingScope scope(this);  // EventEngine::Run from what this pass completes: here
      work = stack_->Poll();
    }
    const IdlePolicy::Next next = policy.After(work);
    if (next == IdlePolicy::Next::kIdle) {
      idle = true;
      break;
    }
    if (next == IdlePolicy::Next::kYield) sched_yield();
  }
  stack_->EndSpin(idle);
}

void EngineCore::Deliver(absl::AnyInvocable<void()> fn) {
  if (stack_->HoldsToken()) {
    stack_token.AssertHeld();  // (the analysis cannot see the run-time check above)
    if (!stack_->OffloadsCompletions()) {
      counters_.completions_inline.fetch_add(1, std::memory_order_relaxed);
      stack_->RunAfterTurn(std::move(fn));
      return;
    }
  }
  counters_.completions_executor.fetch_add(1, std::memory_order_relaxed);
  executor_->Run(std::move(fn));
}

EngineCore* EngineCore::Get() { return g_core.load(std::memory_order_acquire); }

}  // namespace grpc_bypass::engine
