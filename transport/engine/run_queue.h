// The EventEngine::Run closures that one polling thread queued for itself
// (EngineCore::PollingScope): it runs them after its current work, one at a time, in order.
// If one of them blocks (a callback reaction that sleeps or waits on a lock: the callback API
// forbids it, real code does it), another thread takes what is queued behind it away
// (Rescue) and hands it on, so that it does not wait for the blocked one.
//
// Threads: Push and RunAll on the owner thread only (the one that made it); Rescue on any.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H

#include <cstddef>
#include <cstdint>
#include <thread>

#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc_bypass::engine {

class RunQueue {
 public:
  using Fn = absl::AnyInvocable<void()>;

  std::thread::id owner() const { return owner_; }
  void Push(Fn fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs what is queued, and what that queues, until none is left; returns how many ran.
  size_t RunAll() ABSL_LOCKS_EXCLUDED(mu_);
  // The owner is stuck if an earlier Rescue at least `stuck` before `now` saw it inside the
  // same closure of RunAll, and it has queued nothing since (so the delay is `stuck` plus the
  // callers' period). A thread busy under load begins and queues closures all the time, and
  // its passes over the stack are not closures: not stuck, and its closures stay with it. A
  // stuck owner's queue goes to `to` (in order, outside the lock).
  struct Rescued {
    bool stuck = false;
    size_t moved = 0;
  };
  Rescued Rescue(absl::Time now, absl::Duration stuck, absl::FunctionRef<void(Fn)> to)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::thread::id owner_ = std::this_thread::get_id();
  absl::Mutex mu_;  // uncontended but for a Rescue: the owner's lock per closure is its cost
  absl::InlinedVector<Fn, 8> queue_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;  // queue_[next_..] wait; those before have run
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // the owner is inside a closure of RunAll
  uint64_t progress_ ABSL_GUARDED_BY(mu_) = 0;  // closures queued and begun
  // What Rescue last saw of progress_, and when it first saw it.
  uint64_t seen_progress_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time seen_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_RUN_QUEUE_H
