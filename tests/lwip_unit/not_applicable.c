/* lwIP's own unit tests (test/unit of Debian 13's lwip 2.2.1 source package), run against our
 * lwipopts.h. lwip_unittests.c is upstream's runner, compiled as a library
 * (LWIP_UNITTESTS_LIB); this file provides main() and stands in for the suites that cannot
 * apply to our options, each with the reason:
 *
 *   ip4     - the file #errors without IP_REASSEMBLY, which we build as 0 (fragments are
 *             dropped and counted before they reach TCP). Its other tests (127.0.0.1,
 *             ip4addr_aton, ICMP reply length: upstream's test for our old patch 0010)
 *             cannot be compiled apart from it; tests/fuzz covers the ICMP quote.
 *   dns     - LWIP_DNS=0: no name resolution in the stack (test_dns.c is not guarded).
 *   dhcp    - LWIP_DHCP=0: addresses are configured (BYPASS_IP), and UDP is off.
 *   mdns    - an lwIP app (apps/mdns) we do not build; needs UDP.
 *   mqtt    - an lwIP app (apps/mqtt) we do not build; uses altcp on top of TCP.
 *   sockets - NO_SYS=1: there is no socket or netconn API, no tcpip thread.
 *
 * Every other suite (ip6, udp, tcp, tcp_oos, tcp_state, def, mem, netif, pbuf, timers, etharp)
 * runs with all of its tests.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lwip_check.h"

int lwip_unittests_run(void);

static Suite* not_applicable(const char* name, const char* why) {
  printf("lwip unit suite '%s' not applicable to our options: %s\n", name, why);
  return suite_create(name);
}

Suite* ip4_suite(void) { return not_applicable("ip4", "IP_REASSEMBLY=0"); }
Suite* dns_suite(void) { return not_applicable("dns", "LWIP_DNS=0"); }
Suite* dhcp_suite(void) { return not_applicable("dhcp", "LWIP_DHCP=0, no UDP"); }
Suite* mdns_suite(void) { return not_applicable("mdns", "apps/mdns not built, no UDP"); }
Suite* mqtt_suite(void) { return not_applicable("mqtt", "apps/mqtt not built"); }
Suite* sockets_suite(void) { return not_applicable("sockets", "NO_SYS=1, no socket API"); }

void lwip_unit_assert_hook(const char* msg) {
  /* check's fail() marks the current test as failed and ends it (the tests run forked). */
  ck_abort_msg("lwIP assertion: %s", msg);
}

unsigned int grpc_bypass_lwip_rand(void) { return (unsigned int)rand(); }
/* lwIP's own tests expect its default ISN sequence (tcp.c without LWIP_HOOK_TCP_ISN); our
   keyed ISN is tested in tests/lwip/isn_test.cc. */
unsigned int grpc_bypass_tcp_isn(const struct ip_addr* l, unsigned short lp,
                                 const struct ip_addr* r, unsigned short rp) {
  static unsigned int iss = 6510;
  extern unsigned int tcp_ticks;
  (void)l; (void)lp; (void)r; (void)rp;
  iss += tcp_ticks;
  return iss;
}
void grpc_bypass_lwip_assert(const char* msg, const char* file, int line) {
  fprintf(stderr, "lwIP assertion failed: %s (%s:%d)\n", msg, file, line);
  abort();
}

int main(void) { return lwip_unittests_run(); }

/* The ip4/ip6 suites drain the tcpip thread's queue in teardown; with NO_SYS=1 there is no
 * such thread and nothing is queued, so draining does nothing. */
int tcpip_thread_poll_one(void) { return 0; }

/* lwip_unittests.c tests NO_SYS before any header has included lwipopts.h, so it takes the
 * NO_SYS=0 branch and calls tcpip_init(); with NO_SYS=1 that is plain lwip_init(). */
#include "lwip/init.h"
void tcpip_init(void* initfunc, void* arg) {
  (void)initfunc;
  (void)arg;
  lwip_init();
}
