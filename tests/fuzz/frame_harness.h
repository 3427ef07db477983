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
//   flags bit 3: each frame arrives as a chain of two pbufs split in the middle (as a
//                scattered mbuf chain does)
// Single-threaded; not reentrant.
#ifndef GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H
#define GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H

#include <cstddef>
#include <cstdint>
#include <vector>

struct tcp_pcb;

namespace grpc_bypass::fuzz {

void RunInput(const uint8_t* data, size_t size);

// Counters for reports and tests.
struct HarnessStats {
  uint64_t frames_in, frames_out, connections_made;
  uint64_t runts;  // dropped by HeadersComplete before lwIP
};
HarnessStats GetHarnessStats();

// ---- for frame tests (tests/fuzz/lwip_fixes_test.cc): the same stack, driven by hand ----

// The established connection as the peer sees it. A fresh one (the previous one aborted)
// for each call, so tests do not depend on each other.
struct PeerView {
  tcp_pcb* pcb;      // our side (lwIP's), owned by lwIP; null if the handshake failed
  uint32_t seq;      // next sequence number the peer sends (our rcv_nxt)
  uint32_t ack;      // next sequence number we send (what the peer acknowledges)
  uint16_t port;     // the peer's port
};
PeerView NewConnection();

// A TCP/IPv4 frame from the peer of the connection on `port` to our port 7, checksummed.
std::vector<uint8_t> PeerTcpFrame(uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags,
                                  const uint8_t* data = nullptr, size_t n = 0);
// Fixes lengths and checksums of an Ethernet frame holding IPv4 or IPv6 (as flags bit 0).
void FixUpFrame(std::vector<uint8_t>& frame);
// Feeds one frame through the DPDK netif's path (header check, zero-copy pbuf, lwIP). With
// `split` > 0 the frame arrives as a chain of two pbufs split at that offset (as a scattered
// mbuf chain would).
void InputFrame(const std::vector<uint8_t>& frame, size_t split = 0);
// The same without our header check (frame_check): lwIP's own input path alone, as any other
// netif would feed it, so that its own length checks are what is tested.
void InputFrameUnchecked(const std::vector<uint8_t>& frame);
// Every frame lwIP sent since the last call.
std::vector<std::vector<uint8_t>> TakeSentFrames();
// Whether our side of the connection is still known to lwIP (not freed by an abort/reset).
bool ConnectionAlive(const tcp_pcb* pcb);

}  // namespace grpc_bypass::fuzz

#endif  // GRPC_BYPASS_TESTS_FUZZ_FRAME_HARNESS_H
