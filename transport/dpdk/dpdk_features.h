// What differs between the DPDK releases we build against (Debian 12's 22.11, the modern
// root's 25.11), from DPDK's own version macro: the one place that switches on it, as
// transport/engine/grpc_features.h does for gRPC.
#ifndef GRPC_BYPASS_TRANSPORT_DPDK_DPDK_FEATURES_H
#define GRPC_BYPASS_TRANSPORT_DPDK_DPDK_FEATURES_H

#include <rte_version.h>

// 23.11 (commit 81890dbb91, "net/tap: rework checksum offloading"; still so in 25.11):
// net_tap "offloads" TX checksums in software by moving a frame's headers into a new mbuf
// chained before it (rte_pktmbuf_adj on the caller's mbuf) before its writev. When that
// writev fails (EIO while the kernel side of the tap is down, before our link poll sees it),
// tx_burst reports the frame unsent but leaves it stripped of its headers; retried, it fails
// before any writev once fewer than 54 bytes are left (ACKs, small HTTP/2 frames), and every
// frame queued behind it waits: TX stops for good after a link flap (seen on 1.83 in
// reliability_tap_test). 22.11 computes the checksums on a copy and never touches the mbuf.
#define GRPC_BYPASS_DPDK_TAP_TX_CKSUM_BREAKS_RETRY (RTE_VERSION >= RTE_VERSION_NUM(23, 11, 0, 0))

#endif  // GRPC_BYPASS_TRANSPORT_DPDK_DPDK_FEATURES_H
