// The few gRPC internals the pollset bridge uses (pollset_bridge.h), in one place:
//   grpc_pollset_vtable, grpc_posix_pollset_vtable and grpc_set_pollset_vtable (iomgr's
//   pollset, which a thread waiting on a completion queue blocks in), the waiting thread's
//   ExecCtx (to run the closures its frames complete), and gRPC's clock (the deadline).
//
// gRPC < 1.60 (Debian 12's 1.51): from gRPC's own internal headers (Debian's source package
// of the installed version). gRPC 1.83 (the modern root): no internal headers are packaged,
// so they are declared here from the facts: src/core/lib/iomgr/pollset.h,
// src/core/lib/iomgr/exec_ctx.h and src/core/util/time.h of v1.83.0, and the symbols
// libgrpc.so.56 exports (nm -D: grpc_set_pollset_vtable, grpc_posix_pollset_vtable, 64 bytes;
// grpc_core::ExecCtx::Flush, the thread-local grpc_core::ExecCtx::exec_ctx_,
// grpc_core::Timestamp::FromTimespecRoundDown). CheckPollsetAbi() checks at start-up what can
// be checked at run time. gRPC 1.60-1.82: not declared (not verified): the bridge is off there.
#ifndef GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_ABI_H
#define GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_ABI_H

#include <cstdint>

#include "absl/status/status.h"
#include "transport/grpc/grpc_version.h"

#if !GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
#define GRPC_BYPASS_POLLSET_BRIDGE 1
#include "src/core/lib/iomgr/exec_ctx.h"
#include "src/core/lib/iomgr/pollset.h"

extern grpc_pollset_vtable grpc_posix_pollset_vtable;

namespace grpc_bypass::pollset_abi {
inline bool InExecCtx() { return grpc_core::ExecCtx::Get() != nullptr; }
inline void FlushExecCtx() {
  grpc_core::ExecCtx* ctx = grpc_core::ExecCtx::Get();
  if (ctx->HasWork()) ctx->Flush();
}
inline void InvalidateNow() { grpc_core::ExecCtx::Get()->InvalidateNow(); }
// Milliseconds from now until `deadline` (<= 0: passed; INT64_MAX: none).
inline int64_t MillisUntil(grpc_core::Timestamp deadline) {
  InvalidateNow();
  if (deadline == grpc_core::Timestamp::InfFuture()) return INT64_MAX;
  return (deadline - grpc_core::ExecCtx::Get()->Now()).millis();
}
}  // namespace grpc_bypass::pollset_abi

#elif GRPC_BYPASS_GRPC_AT_LEAST(83)
#define GRPC_BYPASS_POLLSET_BRIDGE 1
#include <grpc/support/sync.h>
#include <grpc/support/time.h>

#include <cstddef>

struct grpc_pollset;         // opaque: its first member is its gpr_mu (checked in init)
struct grpc_pollset_worker;  // opaque
struct grpc_closure;         // opaque

namespace grpc_core {
// time.h: one int64_t, milliseconds after gRPC's process epoch; trivially copyable, so
// passed by value in a register as the library does.
class Timestamp {
 public:
  static Timestamp FromTimespecRoundDown(gpr_timespec t);
  int64_t millis_;
};
// exec_ctx.h: only the non-virtual Flush() and the thread's current context are used.
class ExecCtx {
 public:
  bool Flush();
  static thread_local ExecCtx* exec_ctx_;
};
}  // namespace grpc_core

// pollset.h (grpc_error_handle is absl::Status).
struct grpc_pollset_vtable {
  void (*global_init)(void);
  void (*global_shutdown)(void);
  void (*init)(grpc_pollset* pollset, gpr_mu** mu);
  void (*shutdown)(grpc_pollset* pollset, grpc_closure* closure);
  void (*destroy)(grpc_pollset* pollset);
  absl::Status (*work)(grpc_pollset* pollset, grpc_pollset_worker** worker,
                       grpc_core::Timestamp deadline);
  absl::Status (*kick)(grpc_pollset* pollset, grpc_pollset_worker* specific_worker);
  size_t (*pollset_size)(void);
};
void grpc_set_pollset_vtable(grpc_pollset_vtable* vtable);  // (a C++ symbol)
extern grpc_pollset_vtable grpc_posix_pollset_vtable;

namespace grpc_bypass::pollset_abi {
inline bool InExecCtx() { return grpc_core::ExecCtx::exec_ctx_ != nullptr; }
// Flush() with nothing queued returns at once (it checks its list and the combiner).
inline void FlushExecCtx() { grpc_core::ExecCtx::exec_ctx_->Flush(); }
// (The context's cached time is not reachable from here; gRPC's completion-queue loop
// refreshes it after every pollset_work.)
inline void InvalidateNow() {}
inline int64_t MillisUntil(grpc_core::Timestamp deadline) {
  if (deadline.millis_ == INT64_MAX) return INT64_MAX;
  if (deadline.millis_ == INT64_MIN) return 0;
  return deadline.millis_ -
         grpc_core::Timestamp::FromTimespecRoundDown(gpr_now(GPR_CLOCK_MONOTONIC)).millis_;
}
}  // namespace grpc_bypass::pollset_abi

#else
#define GRPC_BYPASS_POLLSET_BRIDGE 0
#endif

#if GRPC_BYPASS_POLLSET_BRIDGE
namespace grpc_bypass::pollset_abi {
// What can be checked at run time before the bridge is installed: the library's posix vtable
// has the size of ours (its ELF symbol size), every entry is set, and a pollset is larger than
// its mutex. An error names what differs; the bridge is then not installed.
absl::Status CheckPollsetAbi();
}  // namespace grpc_bypass::pollset_abi
#endif

#endif  // GRPC_BYPASS_TRANSPORT_GRPC_POLLSET_ABI_H
