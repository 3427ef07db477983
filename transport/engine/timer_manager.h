// One thread that fires timers in deadline order and hands their callbacks to the executor.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_TIMER_MANAGER_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_TIMER_MANAGER_H

#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "transport/engine/executor.h"

namespace grpc_bypass::engine {

class TimerManager {
 public:
  explicit TimerManager(Executor* executor);
  ~TimerManager();  // pending timers are dropped without running

  // Runs `fn` on the executor no earlier than `delay` from now. Returns a timer id (> 0).
  int64_t RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // True if the timer had not fired yet; it then never runs.
  bool Cancel(int64_t id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Key = std::pair<absl::Time, int64_t>;
  void Loop();

  Executor* executor_;
  absl::Mutex mu_;
  std::map<Key, absl::AnyInvocable<void()>> timers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar cv_;
  std::thread thread_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_TIMER_MANAGER_H
