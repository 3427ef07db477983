// The stack token: the right to touch lwIP, the ports' queues, the netif, and the state of
// every object lwIP calls back (endpoints, listeners, pending connects). One thread holds it
// at a time, the "token holder" (DESIGN.md, threading).
//
// lwIP (NO_SYS=1) is process-global, and so is its token: one object, `stack_token`, named by
// the annotations of every layer (ABSL_GUARDED_BY(stack_token), BYPASS_REQUIRES_TOKEN), which
// clang's -Wthread-safety checks (tools/thread_safety, part of tools/test). Only the Stack
// takes and releases it. Two places the analysis cannot follow are declared, not escaped:
//   - a closure the Stack runs for its holder is a lambda marked BYPASS_REQUIRES_TOKEN (its
//     body is checked as if the token were held; the Stack's dispatch calls run it so);
//   - a C callback lwIP calls inside a pass (tcp_recv, tcp_err, ...) is a function marked
//     BYPASS_REQUIRES_TOKEN, handed to lwIP through a function pointer.
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_TOKEN_H
#define GRPC_BYPASS_TRANSPORT_LWIP_TOKEN_H

#include <atomic>

#include "absl/base/attributes.h"
#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace grpc_bypass {

class Stack;

class ABSL_LOCKABLE StackToken {
 public:
  constexpr explicit StackToken(absl::ConstInitType) : mu_(absl::kConstInit) {}
  StackToken(const StackToken&) = delete;
  StackToken& operator=(const StackToken&) = delete;

  // True on the thread that holds the token now. Any thread.
  bool HeldHere() const {
    return holder_.load(std::memory_order_acquire) == Self();
  }
  // Aborts with one line unless this thread holds the token; tells the analysis it does. For
  // code reached both under and outside a turn, which checks HeldHere() first.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
    if (!HeldHere()) Fatal("the stack token is not held on this thread");
  }
  // True if some thread holds it (a hint: it may change at once). Any thread.
  bool Busy() const { return holder_.load(std::memory_order_seq_cst) != nullptr; }

 private:
  friend class Stack;
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (!mu_.TryLock()) return false;
    holder_.store(Self(), std::memory_order_release);
    return true;
  }
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    holder_.store(Self(), std::memory_order_release);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    holder_.store(nullptr, std::memory_order_release);
    mu_.Unlock();
  }

  [[noreturn]] static void Fatal(const char* what);
  // A per-thread address names the holder (std::thread::id has no constant initialiser).
  static const void* Self() {
    static thread_local const char tag = 0;
    return &tag;
  }
  absl::Mutex mu_;
  std::atomic<const void*> holder_{nullptr};
};

// Process-global because lwIP's state is (NO_SYS=1: one stack per process).
ABSL_CONST_INIT inline StackToken stack_token(absl::kConstInit);

}  // namespace grpc_bypass

// On a function or a lambda: runs only with the stack token held on this thread.
#define BYPASS_REQUIRES_TOKEN ABSL_EXCLUSIVE_LOCKS_REQUIRED(::grpc_bypass::stack_token)

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_TOKEN_H
