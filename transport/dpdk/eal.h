// DPDK's Environment Abstraction Layer, started once per process.
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_EAL_H
#define GRPC_BYPASS_TRANSPORT_DPDK_EAL_H

#include <string>

#include "absl/status/status.h"

namespace grpc_bypass::dpdk {

// Starts EAL with `args` (as on a command line, split on whitespace; the program name is
// added). The first successful call starts EAL; later calls with the same args return OK,
// with other args FailedPrecondition (EAL cannot be restarted in one process). Errors are one
// line and name the cause (for example hugepages asked for but missing).
absl::Status StartEal(const std::string& args);

// True once StartEal has succeeded.
bool EalStarted();

// Thread placement. rte_eal_init pins the calling thread to EAL's main lcore (-l); StartEal
// gives the caller back the CPUs it had before, so that the application's threads (gRPC's
// pollers and executors, created later from it) keep the process's CPU set, and only the poll
// thread is pinned, to the main lcore's CPUs with PinToMainLcore(). Example, big machine:
// `taskset -c 2-15 ... BYPASS_EAL='-l 1 ...'`: the poll thread on CPU 1, gRPC on 2-15.
// Small machine: `taskset -c 0 ... -l 0`: everything on CPU 0 (BYPASS_IDLE=busy yields).
// Pins the calling thread; false if EAL has not started or the call failed.
bool PinToMainLcore();

// Gives the calling thread an EAL lcore id (rte_thread_register) if it has none, so that its
// mbuf allocations and frees use the mempool's per-lcore cache instead of the shared ring:
// every thread that takes the stack (gRPC's pollers, the background poller) allocates an
// mbuf per received segment (measured: a bulk receiver spent 21 % of its cycles in the ring
// without it). Cheap after the first call on a thread. At most kMaxCachedThreads threads hold
// an id at once, so that the free mbufs their caches can hold (1.5 x the cache each, kept
// while the thread blocks) stay a bounded part of the pool (port.cc sizes the cache from it).
// When the thread exits it flushes its caches back to their pools and gives the id back.
// False when EAL has not started or kMaxCachedThreads threads hold one: the thread then works
// without the cache, and tries again on a later call (counted once by ThreadsWithoutLcore).
// Registering disables DPDK's secondary processes, which grpc-bypass does not use.
inline constexpr uint32_t kMaxCachedThreads = 16;
bool RegisterThread();
uint64_t ThreadsWithoutLcore();

}  // namespace grpc_bypass::dpdk

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_EAL_H
