// The EventEngine::Run closures that one polling thread queued for itself
// (EngineCore::PollingScope): it runs them after its current work, one at a time, in order.
// If that work or one of them blocks (a callback reaction that sleeps or waits on a lock: the
// callback API forbids it, real code does it), another thread takes what is queued away
// (Rescue) and hands it on, so that it does not wait for the blocked one.
//
// Threads: Enter, Leave, Push and RunAll on the owner thread only; Rescue on any thread.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc_bypass::engine {

class RunQueue {
 public:
  using Fn = absl::AnyInvocable<void()>;

  // Around the owner's outermost PollingScope (a pass, and what it completed and queued).
  void Enter() { busy_.store(busy_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  void Leave() { Enter(); }
  void Push(Fn fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs what is queued, and what that queues, until none is left; returns how many ran.
  size_t RunAll() ABSL_LOCKS_EXCLUDED(mu_);
  // The owner is stuck if it has been inside one scope since an earlier Rescue at least
  // `stuck` before `now` saw it there (so the delay is `stuck` plus the callers' period);
  // then what is queued goes to `to` (in order, outside the lock).
  struct Rescued {
    bool stuck = false;
    size_t moved = 0;
  };
  Rescued Rescue(absl::Time now, absl::Duration stuck, absl::FunctionRef<void(Fn)> to)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Odd while the owner is inside a scope; one more at each Enter and Leave (owner writes).
  std::atomic<uint64_t> busy_{0};
  absl::Mutex mu_;  // uncontended but for a Rescue: the owner's lock per closure is its cost
  absl::InlinedVector<Fn, 8> queue_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;  // queue_[next_..] wait; those before have run
  // What Rescue last saw: the owner's scope (busy_), and when it first saw it.
  uint64_t seen_busy_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time seen_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H
