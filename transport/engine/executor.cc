#include "transport/engine/executor.h"

namespace grpc_bypass::engine {
namespace {
thread_local bool t_executor_thread = false;
}  // namespace

Executor::Executor(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

Executor::~Executor() { Stop(); }

void Executor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
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
      return;
    }
  }
  fn();  // stopped (process exit): no thread is left to run it; run it here, once
}

void Executor::Loop() {
  t_executor_thread = true;
  for (;;) {
    absl::AnyInvocable<void()> fn;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

}  // namespace grpc_bypass::engine
