// Platform functions lwIP calls (NO_SYS=1): a monotonic clock, random numbers, assertions.
#include <time.h>

#include <cstdio>
#include <cstdlib>

#include <cstdint>
#include <cstring>

#include "absl/random/random.h"
#include "lwip/arch.h"
#include "lwip/ip_addr.h"
#include "lwip/sys.h"

namespace {

// SipHash-2-4 (Aumasson and Bernstein), the keyed PRF RFC 6528 asks for.
inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

uint64_t SipHash24(const uint64_t key[2], const uint8_t* in, size_t len) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
  uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
  auto round = [&] {
    v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
    v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
  };
  const size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m;
    std::memcpy(&m, in + i, 8);  // little-endian hosts (the targets of this port)
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t b = static_cast<uint64_t>(len) << 56;
  for (size_t i = 0; i < (len & 7); ++i) b |= static_cast<uint64_t>(in[full + i]) << (8 * i);
  v3 ^= b;
  round();
  round();
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

// The secret: drawn once per process from absl's OS-seeded generator.
const uint64_t* IsnKey() {
  static const uint64_t* key = [] {
    absl::BitGen gen;
    static uint64_t k[2] = {absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen)};
    return k;
  }();
  return key;
}

}  // namespace

extern "C" {

// Milliseconds from CLOCK_MONOTONIC: never jumps with wall-clock changes. lwIP compares
// times with wrap-around arithmetic, so the u32 truncation is fine.
u32_t sys_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<u32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000u +
                            static_cast<uint64_t>(ts.tv_nsec) / 1000000u);
}

// Only the token holder calls lwIP, and each thread has its own generator: no lock.
unsigned int grpc_bypass_lwip_rand(void) {
  static thread_local absl::BitGen gen;
  return absl::Uniform<unsigned int>(gen);
}

unsigned int grpc_bypass_tcp_isn(const struct ip_addr* local_ip, unsigned short local_port,
                                 const struct ip_addr* remote_ip, unsigned short remote_port) {
  uint8_t buf[2 * (16 + 1) + 4] = {};
  size_t n = 0;
  for (const ip_addr_t* a : {local_ip, remote_ip}) {
    if (IP_IS_V6(a)) {
      std::memcpy(buf + n, ip_2_ip6(a)->addr, 16);
    } else {
      std::memcpy(buf + n, &ip_2_ip4(a)->addr, 4);
    }
    buf[n + 16] = IP_GET_TYPE(a);
    n += 17;
  }
  std::memcpy(buf + n, &local_port, 2);
  std::memcpy(buf + n + 2, &remote_port, 2);
  n += 4;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t ticks4us =
      (static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u) / 4;
  return static_cast<unsigned int>(ticks4us + SipHash24(IsnKey(), buf, n));
}

// An lwIP assertion means an invariant of the stack is broken (a bug, never bad input from
// the network: inputs are validated before they reach an assertion). Say where and stop.
void grpc_bypass_lwip_assert(const char* msg, const char* file, int line) {
  std::fprintf(stderr, "grpc-bypass: lwIP assertion failed: %s (%s:%d)\n", msg, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // extern "C"
