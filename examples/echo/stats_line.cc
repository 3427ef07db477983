#include "examples/echo/stats_line.h"

#include "absl/strings/str_cat.h"

namespace grpc_bypass::examples {

std::string StatsLine(Stack& stack, const EchoCounters& echo) {
  std::string s = "stats";
  for (const dpdk::PortQueueStats& q : stack.device().Stats()) {
    absl::StrAppend(&s, " port", q.port_id, "_rx_packets=", q.rx_packets, " port", q.port_id,
                    "_tx_packets=", q.tx_packets, " port", q.port_id, "_rx_drops=", q.rx_drops,
                    " port", q.port_id, "_tx_drops=", q.tx_drops, " port", q.port_id,
                    "_tx_retries=", q.tx_retries, " port", q.port_id, "_tx_nombuf=", q.tx_nombuf,
                    " port", q.port_id, "_rx_nombuf=", q.rx_nombuf, " port", q.port_id,
                    "_mempool_in_use=", q.mempool_in_use, " port", q.port_id,
                    "_mempool_size=", q.mempool_size, " port", q.port_id, "_mac_learned=",
                    q.mac_learned);
  }
  for (const auto& port : stack.ports()) {
    for (const auto& [name, value] : port->XStats()) {
      absl::StrAppend(&s, " port", port->id(), "_xstat_", name, "=", value);
    }
  }
  LwipStats l = stack.GetLwipStats();
  for (const LwipStats::Pool& p : l.pools) absl::StrAppend(&s, " memp_", p.name, "=", p.used);
  absl::StrAppend(&s, " heap_used=", l.heap_used, " tcp_rx=", l.tcp_rx, " tcp_tx=", l.tcp_tx,
                  " tcp_drop=", l.tcp_drop, " echo_accepted=", echo.accepted.Get(),
                  " echo_active=", echo.active.Get(), " echo_closed=", echo.closed.Get(),
                  " echo_aborted=", echo.aborted.Get(), " echo_bytes=", echo.bytes_echoed.Get());
  return s;
}

}  // namespace grpc_bypass::examples
