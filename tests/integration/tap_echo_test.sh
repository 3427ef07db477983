#!/usr/bin/env bash
# tcp_echo on a net_tap port inside a test namespace; the kernel there is the peer:
# ping (IPv4, IPv6), 16 MiB echoed and verified, RST for a closed port, FIN in both
# directions, 1000 connections with lwIP's pools and the mempool back at their baseline;
# an MTU this PMD cannot carry is refused clearly.
. "$(dirname "$0")/lib.sh"
ECHO="$(bin examples/tcp_echo)"
PEER="$(dirname "$0")/kernel_peer.py"
make_ns tap

start_echo() {  # start_echo MTU LOG [VAR=VALUE...]
  local mtu="$1" log="$2"; shift 2
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "tap$TEST_ID" 0 net_tap0,iface=bpt0)" \
    BYPASS_IP=198.18.0.2/24 BYPASS_IP6=fd00:77::2/64 BYPASS_MTU="$mtu" BYPASS_IDLE=backoff "$@" \
    "$ECHO" --listen_port=7 >"$log" 2>&1 &
  ECHO_PID=$!
  PIDS+=("$ECHO_PID")
  wait_for_line "$log" '^listening on 198.18.0.2:7' 20
  ip -n "$NS" link set bpt0 mtu "$mtu"
  ip -n "$NS" addr add 198.18.0.1/24 dev bpt0
  ip -n "$NS" addr add fd00:77::1/64 dev bpt0 nodad
  ip -n "$NS" link set bpt0 up
}

stop_echo() {
  kill -TERM "$ECHO_PID"
  wait "$ECHO_PID" || fail "tcp_echo exited non-zero"
}

# ---- MTU 1500 -----------------------------------------------------------------------
start_echo 1500 "$TMP/echo1500.log"
ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 198.18.0.2 >"$TMP/ping4.log" || fail "IPv4 ping"
pass "kernel pings the bypass stack over IPv4"
ip netns exec "$NS" ping -6 -c 3 -i 0.2 -W 2 fd00:77::2 >"$TMP/ping6.log" || fail "IPv6 ping"
pass "kernel pings the bypass stack over IPv6"

# net_tap's RX ring is the tap interface's kernel queue: the port sizes it to its RX
# descriptors (BYPASS_DESCRIPTORS, default 1024), where the kernel would keep 1000 frames.
qlen=$(ip netns exec "$NS" cat /sys/class/net/bpt0/tx_queue_len)
[[ $qlen == 1024 ]] || fail "tap queue $qlen frames, expected the port's 1024 RX descriptors"
pass "the tap's kernel queue is the port's RX ring: 1024 frames"

request_stats "$ECHO_PID" "$TMP/echo1500.log"
base_mbufs=$(stat_of "$TMP/echo1500.log" port0_mempool_in_use)
base_heap=$(stat_of "$TMP/echo1500.log" heap_used)
# net_tap copies on TX (frees each mbuf inside the burst), so the pool is the RX ring plus
# BYPASS_MBUFS (default 16384), with nothing kept for the TX ring's 1024 descriptors.
pool=$(stat_of "$TMP/echo1500.log" port0_mempool_size)
[[ $pool == $((1024 + 16384)) ]] || fail "mempool $pool mbufs, expected 1024 RX + 16384 (none for TX)"
pass "the mempool holds no mbufs for net_tap's TX ring: $pool"

ip netns exec "$NS" "$PY" "$PEER" bulk 198.18.0.2 7 $((16 << 20)) || fail "16 MiB bulk echo"
pass "16 MiB sent by the kernel echoed back intact (MTU 1500)"
# net_tap's queue fd raises no signal per frame (O_ASYNC, 020000, is off): the poller calls
# the PMD's RX handler itself before each burst, and the 16 MiB above came through that way.
# The PMD's keep-alive tun fd is detached from the queues (no frames) and may keep O_ASYNC;
# DPDK 22.11 opens a second fd for the TX queue, without it.
quiet=0; signalling=0
for fd in /proc/"$ECHO_PID"/fd/*; do
  [[ $(readlink "$fd") == */dev/net/tun ]] || continue
  flags=$(awk '/^flags:/ {print $2}' "/proc/$ECHO_PID/fdinfo/${fd##*/}")
  if (( (8#$flags & 8#20000) == 0 )); then quiet=$((quiet + 1)); else signalling=$((signalling + 1)); fi
done
(( quiet >= 1 && signalling <= 1 )) ||
  fail "tap fds: $quiet without a signal per frame, $signalling with (expected the queue fds without, the keep-alive fd at most with)"
pass "the tap's queue fd raises no signal per frame"
ip netns exec "$NS" "$PY" "$PEER" bulk fd00:77::2 7 $((1 << 20)) || fail "IPv6 bulk echo"
pass "1 MiB echoed over IPv6"
ip netns exec "$NS" "$PY" "$PEER" refused 198.18.0.2 9 || fail "RST for a closed port"
pass "closed port answers RST"
ip netns exec "$NS" "$PY" "$PEER" fin 198.18.0.2 7 || fail "FIN both directions"
pass "FIN/close in both directions"
ip netns exec "$NS" "$PY" "$PEER" churn 198.18.0.2 7 1000 || fail "1000 connections"
sleep 1  # the last LAST_ACKs complete
request_stats "$ECHO_PID" "$TMP/echo1500.log"
L="$TMP/echo1500.log"
[[ $(stat_of "$L" memp_TCP_PCB) == 0 ]] || fail "TCP pcbs not back to 0: $(stat_of "$L" memp_TCP_PCB)"
[[ $(stat_of "$L" memp_TCP_SEG) == 0 ]] || fail "TCP segments not back to 0"
[[ $(stat_of "$L" memp_PBUF_POOL) == 0 ]] || fail "pbuf pool not back to 0"
[[ $(stat_of "$L" heap_used) == "$base_heap" ]] || fail "lwIP heap $(stat_of "$L" heap_used) != baseline $base_heap"
[[ $(stat_of "$L" port0_mempool_in_use) == "$base_mbufs" ]] ||
  fail "mempool in use $(stat_of "$L" port0_mempool_in_use) != baseline $base_mbufs"
[[ $(stat_of "$L" echo_aborted) == 0 ]] || fail "connections were aborted"
accepted=$(stat_of "$L" echo_accepted)
[[ $accepted -ge 1003 ]] || fail "only $accepted connections accepted"
pass "after 1000+ connections: pcbs, segments, pbufs, heap ($base_heap) and mempool ($base_mbufs) at baseline"
stop_echo
grep -q '^grpc-bypass: dpdk rx' "$TMP/echo1500.log" || fail "no shutdown summary"
pass "SIGTERM: stats printed, exit 0"

# net_tap offloads checksums (TX: on DPDK 22.11; not on >= 23.11, whose tap breaks a retried
# frame, transport/dpdk/dpdk_features.h) and reports RX checksum status: the run above used
# that path (the port line says so). Now the same traffic with every checksum in software.
if [[ $(pkg-config --modversion libdpdk | cut -d. -f1) -le 22 ]]; then want_tx='tx_ip_cksum=1 tx_tcp_cksum=1'
else want_tx='tx_ip_cksum=0 tx_tcp_cksum=0'; fi
grep -q "offloads: $want_tx rx_cksum=1" "$TMP/echo1500.log" ||
  fail "expected net_tap to offload checksums: $(grep 'grpc-bypass: port' "$TMP/echo1500.log")"
ip netns del "$NS"; make_ns tapsw
start_echo 1500 "$TMP/echo_sw.log" BYPASS_OFFLOADS=0 BYPASS_DESCRIPTORS=8192
qlen=$(ip netns exec "$NS" cat /sys/class/net/bpt0/tx_queue_len)
[[ $qlen == 8192 ]] || fail "BYPASS_DESCRIPTORS=8192: tap queue $qlen frames"
pass "BYPASS_DESCRIPTORS=8192 sizes the tap's queue to 8192 frames"
grep -q 'offloads: tx_ip_cksum=0 tx_tcp_cksum=0 rx_cksum=0' "$TMP/echo_sw.log" || fail "offloads not off"
ip netns exec "$NS" "$PY" "$PEER" bulk 198.18.0.2 7 $((4 << 20)) || fail "bulk echo, software checksums"
pass "4 MiB echoed with checksum offload (above) and with software checksums (BYPASS_OFFLOADS=0)"
stop_echo

# ---- MTU 9000 -----------------------------------------------------------------------
# DPDK 22.11's kernel-facing virtual PMDs cannot carry jumbo frames (net_tap: 1522 bytes,
# net_af_packet: 1518; virtio_user needs /dev/vhost-net, absent on these kernels): there,
# asking net_tap for MTU 9000 must fail with one clear line and exit 2, not hang or crash.
# DPDK 25.11's net_tap carries them: there, 4 MiB must be echoed in jumbo frames. Jumbo frames
# DPDK-to-DPDK are tested over net_memif (memif_echo_test).
DPDK_MAJOR="$(pkg-config --modversion libdpdk | cut -d. -f1)"
if [[ $DPDK_MAJOR -le 22 ]]; then
  set +e
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "tapj$TEST_ID" 0 net_tap0,iface=bpt1)" \
    BYPASS_IP=198.18.0.2/24 BYPASS_MTU=9000 timeout 20 "$ECHO" >"$TMP/echo9000.log" 2>&1
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "MTU 9000 on net_tap: exit $rc, expected 2"
  grep -q '^tcp_echo: BYPASS_PORTS: DPDK port 0 (net_tap0): MTU 9000 needs 9018-byte frames, the port takes at most 1522' \
    "$TMP/echo9000.log" || fail "no clear MTU error: $(tail -1 "$TMP/echo9000.log")"
  pass "MTU 9000 on net_tap (DPDK $DPDK_MAJOR) is refused with one clear line, exit 2"
else
  ip netns del "$NS"; make_ns tapj
  start_echo 9000 "$TMP/echo9000.log"
  ip netns exec "$NS" "$PY" "$PEER" bulk 198.18.0.2 7 $((4 << 20)) || fail "bulk echo at MTU 9000"
  request_stats "$ECHO_PID" "$TMP/echo9000.log"
  rx_pkts=$(stat_of "$TMP/echo9000.log" port0_rx_packets)
  rx_bytes=$(stat_of "$TMP/echo9000.log" port0_xstat_rx_good_bytes)
  avg=$(( rx_bytes / (rx_pkts > 0 ? rx_pkts : 1) ))
  [[ $avg -gt 4000 ]] || fail "MTU 9000 on net_tap: average frame $avg bytes, expected jumbo frames"
  stop_echo
  pass "MTU 9000 on net_tap (DPDK $DPDK_MAJOR): 4 MiB echoed in jumbo frames (average $avg bytes)"
fi
echo "2 passed, 0 failed"
