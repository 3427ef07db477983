// Layered on top of transport/lwip/port/include/lwipopts.h (our options) for lwIP's own unit
// tests: only what the test harness itself needs. Everything else stays as we ship it.
#undef LWIP_TESTMODE
#define LWIP_TESTMODE 1  // exposes tcp_remove_all() and friends used by the tests
// The tests fail on any check failure instead of aborting the process.
#undef LWIP_PLATFORM_ASSERT
#define LWIP_PLATFORM_ASSERT(x) \
  do {                          \
    lwip_unit_assert_hook(x);   \
  } while (0)
#ifdef __cplusplus
extern "C" {
#endif
void lwip_unit_assert_hook(const char* msg);
#ifdef __cplusplus
}
#endif

// What the harness of some suites uses to make traffic, on top of our options:
//  - netif and ip6 suites register netif extended status callbacks;
//  - ip4/ip6 suites send through the loopback netif and drain its queue;
//  - the etharp and udp suites generate their traffic with UDP.
#undef LWIP_NETIF_EXT_STATUS_CALLBACK
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#undef LWIP_NETIF_LOOPBACK
#define LWIP_NETIF_LOOPBACK 1
#undef LWIP_HAVE_LOOPIF
#define LWIP_HAVE_LOOPIF 1
#undef LWIP_UDP
#define LWIP_UDP 1
#undef UDP_STATS
#define UDP_STATS 1

// The ip4/ip6 suites call tcpip_thread_poll_one(), which lwIP declares only with NO_SYS=0
// (tcpip.h); ours is in not_applicable.c. Declared here, since C23 (gcc >= 14's default
// dialect) has no implicit declarations.
#if !defined(__ASSEMBLER__)
#ifdef __cplusplus
extern "C" {
#endif
int tcpip_thread_poll_one(void);
#ifdef __cplusplus
}
#endif
#endif

// lwIP 2.2's tcp, etharp and dhcp tests include lwip/inet.h, whose own struct in_addr clashes
// with glibc's <arpa/inet.h> (our arch/cc.h includes it): take the system's definitions.
#undef LWIP_SOCKET_EXTERNAL_HEADERS
#define LWIP_SOCKET_EXTERNAL_HEADERS 1
#define LWIP_SOCKET_EXTERNAL_HEADER_INET_H <arpa/inet.h>
#define LWIP_SOCKET_EXTERNAL_HEADER_SOCKETS_H <sys/socket.h>
// 2.2's ip4 and ip6 suites count reassembly outcomes in lwip_stats.mib2.
#undef MIB2_STATS
#define MIB2_STATS 1
