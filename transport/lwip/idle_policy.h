// The one idle policy of every thread that polls the stack: the background poller
// (Stack::Background), idle executor threads (EngineCore::PollWhileIdle) and gRPC's waiters
// in the pollset bridge. After each pass the thread tells it the work the pass did, and it
// answers what to do next. Its constants are defined here only.
//
//   kPoll   poll again at once: the pass found work
//   kPause  rte_pause(), then poll again (BYPASS_IDLE=spin: an empty pass, never a yield)
//   kYield  sched_yield(), then poll again: an empty pass inside the spin window, or kBusyYield
//           of work without one, so that a thread sharing the core (one this pass woke, a
//           caller waiting for a completion, a pacer) runs now rather than at the scheduler's
//           next tick (up to 4 ms later); alone on the core sched_yield returns at once
//   kIdle   the spin window has passed without work: a spinner stops spinning; the
//           background poller blocks, for NextSleep() when it has no RX interrupts
//
// One object per polling thread (not thread-safe).
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_IDLE_POLICY_H
#define GRPC_BYPASS_TRANSPORT_LWIP_IDLE_POLICY_H

#include <cstdint>

#include "absl/time/time.h"

namespace grpc_bypass {

class IdlePolicy {
 public:
  static constexpr absl::Duration kBusyYield = absl::Microseconds(20);
  static constexpr absl::Duration kMinSleep = absl::Microseconds(50);
  // After this long without work, NextSleep() goes up to twice `max_sleep` (an idle
  // server's wake-ups are its whole cost).
  static constexpr absl::Duration kDeepIdle = absl::Seconds(1);

  enum class Next { kPoll, kPause, kYield, kIdle };

  // `spin`: how long after the last work the thread keeps polling. `max_sleep`: the longest
  // sleep NextSleep() gives before kDeepIdle. `spin_forever`: never kYield or kIdle.
  explicit IdlePolicy(absl::Duration spin, absl::Duration max_sleep = kMinSleep,
                      bool spin_forever = false);

  // After a pass that did `work`. With `may_spin` false an empty pass is kIdle at once.
  Next After(uint32_t work, bool may_spin = true);
  // The spin window starts again now (a spinner begins; the caller was woken).
  void Restart();
  // The background poller's next sleep: from kMinSleep, doubling up to max_sleep (twice that
  // after kDeepIdle without work); back to kMinSleep after work.
  absl::Duration NextSleep();
  // True once kDeepIdle has passed without work.
  bool DeepIdle() const;

 private:
  uint64_t Now() const;
  const uint64_t spin_tsc_, busy_yield_tsc_, deep_tsc_;
  const absl::Duration max_sleep_;
  const bool spin_forever_;
  uint64_t last_work_tsc_;  // the last pass with work (or Restart)
  uint64_t last_yield_tsc_;
  absl::Duration sleep_ = kMinSleep;
};

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_IDLE_POLICY_H
