// The threads that run EventEngine::Run() closures, timer callbacks, DNS lookups, and
// completions that may not run where they were produced (EngineCore::Deliver). FIFO; any
// thread may Run().
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace grpc_bypass::engine {

class Executor {
 public:
  // Called by a worker that finds nothing queued, before it blocks: it may do other work (poll
  // the stack and run what that completes) and must return soon after `queued()` is true.
  using IdleHook = absl::AnyInvocable<void(absl::FunctionRef<bool()> queued)>;
  explicit Executor(int threads, IdleHook idle = nullptr);
  ~Executor();  // Stop()
  // Runs what is queued, then joins the threads; later Run() calls run their closure at once
  // on the caller's thread (exactly once, even at exit). Idempotent; not from an executor
  // thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  void Run(absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes one blocked worker to run the idle hook, unless a worker is in it already or a
  // nudge is pending. Any thread.
  void NudgeIdle() ABSL_LOCKS_EXCLUDED(mu_);
  // The worker `thread`, if it is in the idle hook, does not come back soon (it runs
  // application code that blocks): until that worker leaves the idle hook, blocked workers
  // take what is queued rather than leave it to the idle ones. Another worker entering and
  // leaving the hook meanwhile (it finds the stack taken by the stuck one) does not end it.
  // Any thread.
  void IdlerStuck(std::thread::id thread) ABSL_LOCKS_EXCLUDED(mu_);
  // True on one of this executor's threads.
  static bool OnExecutorThread();
  // Closures queued and not yet started now (+1 while stopping), and the most there have
  // been (any thread; for stats).
  size_t QueuedNow() const { return queued_.load(std::memory_order_relaxed); }
  size_t QueuedMax() const { return queue_max_.load(std::memory_order_relaxed); }

 private:
  void Loop();
  bool Queued() const;
  IdleHook idle_;  // set before the threads start, then only called
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> queued_{0};  // queue_.size() (+1 while stopping), read without mu_
  std::atomic<size_t> queue_max_{0};  // the peak of queue_.size(), for stats: written under mu_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread::id> idlers_ ABSL_GUARDED_BY(mu_);  // workers inside the idle hook
  bool nudged_ ABSL_GUARDED_BY(mu_) = false;  // NudgeIdle: a worker is to run the idle hook
  // IdlerStuck's worker, until it leaves the hook (std::thread::id() when none).
  std::thread::id stuck_idler_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H
