#include "transport/engine/executor.h"

#include <algorithm>

namespace grpc_bypass::engine {
namespace {
thread_local bool t_executor_thread = false;
}  // namespace

Executor::Executor(int threads, IdleHook idle) : idle_(std::move(idle)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

bool Executor::Queued() const { return queued_.load(std::memory_order_acquire) > 0; }

Executor::~Executor() { Stop(); }

void Executor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    queued_.fetch_add(1, std::memory_order_release);  // ends idle hooks
  }
  for (auto& t : threads_) t.join();
  std::deque<absl::AnyInvocable<void()>> left;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    left.swap(queue_);
  }
  for (auto& fn : left) fn();  // queued as the threads ended: still run exactly once
}

bool Executor::OnExecutorThread() { return t_executor_thread; }

void Executor::Run(absl::AnyInvocable<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      queue_.push_back(std::move(fn));
      queued_.fetch_add(1, std::memory_order_release);
      if (queue_.size() > queue_max_.load(std::memory_order_relaxed)) {
        queue_max_.store(queue_.size(), std::memory_order_relaxed);
      }
      return;
    }
  }
  fn();  // stopped (process exit): no thread is left to run it; run it here, once
}

void Executor::NudgeIdle() {
  if (!idle_) return;
  absl::MutexLock lock(&mu_);
  if (idlers_.empty() && !stopping_) nudged_ = true;
}

void Executor::IdlerStuck(std::thread::id thread) {
  absl::MutexLock lock(&mu_);
  if (std::find(idlers_.begin(), idlers_.end(), thread) != idlers_.end()) stuck_idler_ = thread;
}

void Executor::Loop() {
  t_executor_thread = true;
  const std::thread::id self = std::this_thread::get_id();
  for (;;) {
    const bool idled = idle_ && !Queued();
    if (idled) {
      {
        absl::MutexLock lock(&mu_);
        idlers_.push_back(self);
      }
      idle_([this] { return Queued(); });
    }
    absl::AnyInvocable<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      if (idled) {
        idlers_.erase(std::find(idlers_.begin(), idlers_.end(), self));
        if (stuck_idler_ == self) stuck_idler_ = std::thread::id();
      }
      // While a worker is in the idle hook (polling the stack), it takes what is queued: the
      // blocked workers are not woken for it (a context switch per closure otherwise), unless
      // it is stuck there.
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || nudged_ ||
               (!queue_.empty() && (idlers_.empty() || stuck_idler_ != std::thread::id()));
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) {
        if (stopping_) return;  // stopping and drained
        nudged_ = false;        // nudged: go round to the idle hook
        continue;
      }
      fn = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    fn();
  }
}

}  // namespace grpc_bypass::engine
