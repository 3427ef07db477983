// lwIP options for grpc-bypass: one lwIP instance per process, run by one thread at a time.
//
// Contract: NO_SYS=1. Only the holder of the stack token (transport/lwip/token.h) calls lwIP
// (DESIGN.md); there is no locking inside lwIP. Raw API only: no sockets, no netconn, no tcpip thread.
#ifndef GRPC_BYPASS_LWIPOPTS_H
#define GRPC_BYPASS_LWIPOPTS_H

// ---- system ---------------------------------------------------------------------------
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_TIMERS 1
#define MEM_ALIGNMENT 8
#define LWIP_RAND() grpc_bypass_lwip_rand()
#define LWIP_HOOK_TCP_ISN grpc_bypass_tcp_isn  // RFC 6528 (port/sys_arch.cc)

// ---- memory ---------------------------------------------------------------------------
// The heap (PBUF_RAM: copied TCP send data, control packets) comes from libc malloc, with
// lwIP's statistics kept (MEM_LIBC_STATSHELPER). Fixed pools below bound the control blocks.
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 0
#define MEM_SIZE (64 * 1024 * 1024)  // limit reported in stats; malloc does the work
#define MEMP_OVERFLOW_CHECK 0
#define MEMP_SANITY_CHECK 0

// At least 4096 concurrent TCP connections.
#define MEMP_NUM_TCP_PCB 4608
#define MEMP_NUM_TCP_PCB_LISTEN 256
#define MEMP_NUM_TCP_SEG 65535
#define MEMP_NUM_PBUF 16384       // PBUF_ROM/REF: zero-copy send references
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_ARP_QUEUE 1024
#define MEMP_NUM_ND6_QUEUE 256
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 32)
#define PBUF_POOL_SIZE 4096       // RX normally uses pbuf_custom over mbufs, not this pool
#define PBUF_POOL_BUFSIZE 1536
#define LWIP_SUPPORT_CUSTOM_PBUF 1

// ---- link layer -----------------------------------------------------------------------
#define LWIP_ETHERNET 1
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 1024
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 16
#define ETHARP_SUPPORT_STATIC_ENTRIES 1  // MAC learning seeds the table (SR-IOV VFs, no bcast)
#define ETHARP_SUPPORT_VLAN 0            // VLAN tags are handled in the device layer
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NUM_NETIF_CLIENT_DATA 1
#define LWIP_SINGLE_NETIF 0
#define LWIP_HAVE_LOOPIF 0
// A connection to the interface's own address (a client and a server in one process) loops
// inside lwIP: ip_output queues a copy, and the stack's TX stage delivers it (netif_poll).
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 1024

// ---- IP -------------------------------------------------------------------------------
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define IP_FORWARD 0
#define IP_OPTIONS_ALLOWED 0  // IPv4 options are dropped (and counted)
#define IP_REASSEMBLY 0       // fragments are dropped (and counted): TCP never needs them
#define IP_FRAG 0
#define LWIP_IPV6_FRAG 0
#define LWIP_IPV6_REASS 0
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0  // static addresses
#define LWIP_IPV6_NUM_ADDRESSES 3
#define LWIP_ND6_NUM_NEIGHBORS 64     // <= 127: nd6.c loops over it with 8-bit counters
#define LWIP_ND6_NUM_DESTINATIONS 64
#define LWIP_ND6_QUEUEING 1
#define LWIP_ICMP 1
#define LWIP_ICMP6 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0

// ---- TCP ------------------------------------------------------------------------------
#define LWIP_TCP 1
#define LWIP_CALLBACK_API 1
#define TCP_MSS 8960                 // largest (MTU 9000); lwIP lowers it per netif MTU
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4              // windows up to 1 MiB
#define TCP_WND (512 * 1024)         // at least 256 KiB (issue 4)
#define TCP_SND_BUF (1024 * 1024)  // > TCP_WND (lwIP's TCP tests assume it)
#define TCP_SND_QUEUELEN 4096
#define TCP_SNDLOWAT 16384  // lwIP requires < 0xFFFF - 4 * TCP_MSS
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 4)
#define TCP_QUEUE_OOSEQ 1
// Timer ticks of 10 ms (lwIP: 250): retransmission timeouts are counted in slow ticks
// (2 x 10 ms), so on a LAN a lost segment is resent after tens of ms instead of ~1 s (issue 8:
// 5 % loss made 500 x 64 KiB calls take > 5 minutes); delayed ACKs wait at most 10 ms.
// On a LAN the RTO settles at 3 slow ticks (60 ms: lwIP's variance term never decays below 3);
// retries back off x2 .. x128, so the first resend comes after ~120 ms and a peer silent for
// ~54 s (12 retries) is given up (the kernel: ~15 min; gRPC keepalive detects it sooner).
#define TCP_TMR_INTERVAL 10
#define TCP_OOSEQ_MAX_BYTES (TCP_WND)
#define TCP_OOSEQ_MAX_PBUFS 1024
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
#define LWIP_TCP_KEEPALIVE 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1
#define TCP_MAXRTX 12  // lwIP's maximum (its backoff table)
#define TCP_SYNMAXRTX 6

// ---- checksums: computed in software unless the netif's flags say the NIC does it ------
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
#define CHECKSUM_CHECK_ICMP6 1
#define LWIP_CHECKSUM_ON_COPY 1
#define LWIP_CHKSUM grpc_bypass_chksum  // arch/chksum.h: 32 bytes per step

// ---- statistics -----------------------------------------------------------------------
#define LWIP_STATS 1
// 32-bit counters: lwIP's default 16-bit ones wrap every 65 536 segments (under 0.1 s at our
// rates; seen as "lwip tcp rx 20335" beside "dpdk rx 85878 pkts"). Stack::GetLwipStats
// static_asserts the width.
#define LWIP_STATS_LARGE 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0
#define IP6_STATS 1
#define ICMP6_STATS 1
#define ND6_STATS 1
#define MLD6_STATS 1
#define IP6_FRAG_STATS 1

// ---- debugging: off; assertions stay on (an assertion is a bug in lwIP or in us) -------
#define LWIP_DEBUG 0

// A build may layer extra settings on top (lwIP's unit tests do); see tests/lwip_unit.
#ifdef GRPC_BYPASS_LWIPOPTS_EXTRA
#include GRPC_BYPASS_LWIPOPTS_EXTRA
#endif

#endif  // GRPC_BYPASS_LWIPOPTS_H
