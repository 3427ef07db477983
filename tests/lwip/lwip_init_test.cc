// lwIP initialises under our lwipopts.h; a netif comes up with IPv4 and IPv6 addresses; a TCP
// listener is created and freed, and the pools return to their baseline.
#include <cstring>

#include "gtest/gtest.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

namespace {

err_t DropOutput(netif*, pbuf*) { return ERR_OK; }

err_t InitNetif(netif* n) {
  n->linkoutput = DropOutput;
  n->output = etharp_output;
  n->output_ip6 = ethip6_output;
  n->mtu = 1500;
  n->hwaddr_len = 6;
  const u8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
  std::memcpy(n->hwaddr, mac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
  return ERR_OK;
}

TEST(LwipInit, OptionsAreTheOnesWeShip) {
  EXPECT_EQ(NO_SYS, 1);
  EXPECT_EQ(LWIP_SOCKET, 0);
  EXPECT_GE(MEMP_NUM_TCP_PCB, 4096);
  EXPECT_GE(TCP_WND, 256 * 1024);
  EXPECT_EQ(LWIP_WND_SCALE, 1);
  EXPECT_EQ(LWIP_IPV6, 1);
  EXPECT_EQ(LWIP_CHECKSUM_CTRL_PER_NETIF, 1);
}

TEST(LwipInit, NetifAndListenerComeUpAndPoolsReturnToBaseline) {
  lwip_init();
  netif nif;
  ip4_addr_t ip, mask, gw;
  IP4_ADDR(&ip, 10, 99, 0, 2);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gw, 0, 0, 0, 0);
  ASSERT_NE(netif_add(&nif, &ip, &mask, &gw, nullptr, InitNetif, ethernet_input), nullptr);
  netif_create_ip6_linklocal_address(&nif, 1);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
  EXPECT_TRUE(netif_is_up(&nif));
  EXPECT_TRUE(ip6_addr_isvalid(netif_ip6_addr_state(&nif, 0)));

  const u16_t base_pcb = lwip_stats.memp[MEMP_TCP_PCB]->used;
  const u16_t base_listen = lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used;
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
  ASSERT_NE(pcb, nullptr);
  ASSERT_EQ(tcp_bind(pcb, IP_ANY_TYPE, 7), ERR_OK);
  tcp_pcb* lpcb = tcp_listen(pcb);
  ASSERT_NE(lpcb, nullptr);
  EXPECT_EQ(lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used, base_listen + 1);
  EXPECT_EQ(lwip_stats.memp[MEMP_TCP_PCB]->used, base_pcb);
  ASSERT_EQ(tcp_close(lpcb), ERR_OK);
  EXPECT_EQ(lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used, base_listen);
  sys_check_timeouts();
  netif_remove(&nif);
}

}  // namespace
