// Feeds fuzzer-made Ethernet frames into lwIP's netif input path, as the DPDK netif does, on
// a stack configured with our lwipopts.h that has a listening socket (port 7) and an
// established connection (198.18.0.1:4xxxx -> 198.18.0.2:7, re-made when the input kills
// it). Shared by the libFuzzer target (netif_fuzzer.cc, clang) and the corpus replay test.
//
// Input: one flags byte, then frames as [length: 2 bytes, big-endian][frame bytes]...
//   flags bit 0: fix IPv4/IPv6 lengths and the IP, TCP and ICMPv6 checksums (so that the
//                frame reaches TCP instead of being dropped as corrupt)
//   flags bit 1: steer TCP frames into the established connection (addresses, ports, MACs,
//                and sequence/ack numbers near the expected ones)
//   flags bit 2: run lwIP's timers after the frames
// Single-threaded; not reentrant.
#ifndef GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H
#define GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H

#include <cstddef>
#include <cstdint>

namespace grpc_bypass::fuzz {

void RunInput(const uint8_t* data, size_t size);

// Counters for reports and tests.
struct HarnessStats {
  uint64_t frames_in, frames_out, connections_made;
  uint64_t runts;  // dropped by HeadersComplete before lwIP
};
HarnessStats GetHarnessStats();

}  // namespace grpc_bypass::fuzz

#endif  // GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H
