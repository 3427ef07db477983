// A TCP echo service on lwIP's raw API. Token holder only (call through Stack::RunAndWait).
// Flow control: received data is acknowledged to the peer (tcp_recved) only once it has been
// queued for echo, so a slow reader closes the window instead of growing memory.
#ifndef GRPC_BYPASS_EXAMPLES_ECHO_ECHO_SERVER_H
#define GRPC_BYPASS_EXAMPLES_ECHO_ECHO_SERVER_H

#include <cstdint>

#include "absl/status/status.h"
#include "transport/dpdk/counter.h"

namespace grpc_bypass::examples {

struct EchoCounters {
  Counter accepted, closed, aborted, bytes_echoed;
  Counter active;  // connections open now
};

// Listens on every address of the stack at `port` (IPv4 and IPv6). Counters live as long as
// the process.
absl::Status StartEchoServer(uint16_t port, EchoCounters* counters);

}  // namespace grpc_bypass::examples

#endif  // GRPC_BYPASS_EXAMPLES_ECHO_ECHO_SERVER_H
