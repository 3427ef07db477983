// lwIP architecture glue for Linux/x86-64 (and any little- or big-endian glibc target).
#ifndef GRPC_BYPASS_ARCH_CC_H
#define GRPC_BYPASS_ARCH_CC_H

// glibc's htons/htonl (lwIP's own are off: LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS below). lwIP
// would #define htons to lwip_htons, which renames glibc's declarations of htons when
// <arpa/inet.h> comes after an lwIP header; glibc 2.44 declares them noexcept, lwIP does not,
// and C++ rejects the pair (gcc 16, the modern root).
#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif
// Defined in transport/lwip/port/sys_arch.cc (or by a test harness).
unsigned int grpc_bypass_lwip_rand(void);
// Initial sequence numbers (RFC 6528, LWIP_HOOK_TCP_ISN): a 4-microsecond clock plus
// SipHash-2-4 of the connection's addresses and ports under a per-process random key, so
// that an off-path attacker cannot predict them.
struct ip_addr;
unsigned int grpc_bypass_tcp_isn(const struct ip_addr* local_ip, unsigned short local_port,
                                 const struct ip_addr* remote_ip, unsigned short remote_port);
void grpc_bypass_lwip_assert(const char* msg, const char* file, int line);
#ifdef __cplusplus
}
#endif

#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    printf x;                 \
  } while (0)
#define LWIP_PLATFORM_ASSERT(x) grpc_bypass_lwip_assert((x), __FILE__, __LINE__)

#include "arch/chksum.h"

#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_TIMEVAL_PRIVATE 0

#endif  // GRPC_BYPASS_ARCH_CC_H
