// Platform functions lwIP calls (NO_SYS=1): a monotonic clock, random numbers, assertions.
#include <time.h>

#include <cstdio>
#include <cstdlib>

#include "absl/random/random.h"
#include "lwip/arch.h"
#include "lwip/sys.h"

extern "C" {

// Milliseconds from CLOCK_MONOTONIC: never jumps with wall-clock changes. lwIP compares
// times with wrap-around arithmetic, so the u32 truncation is fine.
u32_t sys_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<u32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000u +
                            static_cast<uint64_t>(ts.tv_nsec) / 1000000u);
}

// Only the poll thread calls lwIP, so a thread_local generator needs no lock.
unsigned int grpc_bypass_lwip_rand(void) {
  static thread_local absl::BitGen gen;
  return absl::Uniform<unsigned int>(gen);
}

// An lwIP assertion means an invariant of the stack is broken (a bug, never bad input from
// the network: inputs are validated before they reach an assertion). Say where and stop.
void grpc_bypass_lwip_assert(const char* msg, const char* file, int line) {
  std::fprintf(stderr, "grpc-bypass: lwIP assertion failed: %s (%s:%d)\n", msg, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // extern "C"
