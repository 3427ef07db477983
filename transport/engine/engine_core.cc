#include "transport/engine/engine_core.h"

#include <sched.h>

#include <algorithm>
#include <thread>

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
}  // namespace

EngineCore::PollingScope::PollingScope(EngineCore* core)
    : core_(core), outermost_(t_polling == nullptr) {
  if (outermost_) t_polling = this;
}

EngineCore::PollingScope::~PollingScope() {
  if (!outermost_) return;
  Drain();
  t_polling = nullptr;
}

size_t EngineCore::PollingScope::Drain() {
  size_t ran = 0;
  while (outermost_ && !queue_.empty()) {  // closures may queue more: they run too, in order
    auto batch = std::move(queue_);
    queue_.clear();
    core_->counters_.runs_after_callback.fetch_add(batch.size(), std::memory_order_relaxed);
    for (auto& fn : batch) fn();
    ran += batch.size();
  }
  return ran;
}

void EngineCore::RunSoon(absl::AnyInvocable<void()> fn) {
  if (PollingScope* scope = t_polling; scope != nullptr && scope->core_ == this) {
    scope->queue_.push_back(std::move(fn));
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
