// The threads that run EventEngine::Run() closures, timer callbacks, DNS lookups, and
// completions that may not run where they were produced (EngineCore::Deliver). FIFO; any
// thread may Run().
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace grpc_bypass::engine {

class Executor {
 public:
  explicit Executor(int threads);
  ~Executor();  // Stop()
  // Runs what is queued, then joins the threads; later Run() calls run their closure at once
  // on the caller's thread (exactly once, even at exit). Idempotent; not from an executor
  // thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  void Run(absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // True on one of this executor's threads.
  static bool OnExecutorThread();

 private:
  void Loop();
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_EXECUTOR_H
