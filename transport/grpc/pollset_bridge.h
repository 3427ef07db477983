// gRPC's pollers drive the bypass stack (run to completion, DESIGN.md threading), on gRPC
// 1.51 and 1.83 (the internals it needs: pollset_abi.h; not on 1.60-1.82).
//
// A thread that waits for gRPC work (a completion queue's Next/Pluck, a sync server's
// threads) calls grpc_pollset_work. Wrapped here: before gRPC's own epoll1 work blocks, the
// waiting thread busy-polls the lwIP stack for up to `spin` (BYPASS_POLL_US) since the last
// work it found, and runs what the frames complete on its own thread: lwIP input, the
// endpoint's read completion, chttp2's parsing (an ExecCtx flush) and the completion-queue
// event, which ends the spin (the kick of its own pollset), so the same thread goes on to
// the handler that waits for that event. No hand-off in between. At most one thread spins at
// a time (Stack::BeginSpin); the others wait in epoll1 as before, and a spin that finds
// nothing hands the ports back to the stack's background poller (which blocks on RX
// interrupts or sleeps). On gRPC >= 1.60 chttp2's read callback runs inside the endpoint's
// completion, in the waiting thread's ExecCtx; on 1.51 in the iomgr bridge's closures.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_BRIDGE_H
#define GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_BRIDGE_H

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace grpc_bypass {
namespace engine {
class EngineCore;
}  // namespace engine

// After the first grpc_init (which installs the posix pollset vtable this one wraps) and after
// EngineCore::Start (the bridge polls EngineCore::Get()'s stack). With
// spin == 0 gRPC's pollers never poll the stack (the background poller does it all).
// FailedPrecondition, one line, installing nothing, if gRPC's threads would not poll through
// it: gRPC's internals are not as declared (pollset_abi.h: CheckPollsetAbi), or the
// pollset_alternative experiment is on.
absl::Status InstallPollsetBridge(absl::Duration spin);

struct PollsetBridgeStats {
  uint64_t spins;         // pollset_work calls that spun on the stack
  uint64_t spins_kicked;  // ... and ended because their pollset got work (run to completion)
  uint64_t yields_for_others;  // a spinner yielded the core to a waiter it had woken
  uint64_t not_spun;      // pollset_work calls that went straight to epoll1 (another spun)
  uint64_t kicks_other_worker;   // kicks during a spin: of a worker blocked on its pollset,
  uint64_t kicks_other_pollset;  // or of another pollset
  uint64_t kicks_owed;      // kicks a thread made of the queue it is coming back to: not passed on
  uint64_t owed_taken;      // ... taken by the next wait on that queue (it returned at once)
  uint64_t owed_passed_on;  // ... passed on to a blocked waiter: no wait within 200 us
};
PollsetBridgeStats GetPollsetBridgeStats();

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_BRIDGE_H
