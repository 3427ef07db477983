#!/usr/bin/env bash
# Two DPDK processes linked by net_memif (no NIC, no hugepages): tcp_echo and
# tcp_echo_client exchange 16 MiB (every byte verified) and 10 000 ping-pongs.
# (MTU 9000 cannot be run here: DPDK 22.11's memif, like tap and af_packet, takes frames of
# at most 1518 bytes; jumbo frames are covered over net_ring in tests/dpdk:device_test.)
. "$(dirname "$0")/lib.sh"
ECHO="$(bin examples/tcp_echo)"
CLIENT="$(bin examples/tcp_echo_client)"
SOCK="$TMP/memif.sock"
make_ns memif  # nothing is routed here; the namespace only keeps the test self-contained

run_pair() {  # run_pair MTU NAME CLIENT_ARGS...
  local mtu="$1" name="$2"; shift 2
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "ms$name$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
    BYPASS_IP=198.18.0.1/24 BYPASS_MTU="$mtu" BYPASS_IDLE=backoff \
    "$ECHO" --listen_port=7 >"$TMP/server-$name.log" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  wait_for_line "$TMP/server-$name.log" '^listening on' 20
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "mc$name$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
    BYPASS_IP=198.18.0.2/24 BYPASS_MTU="$mtu" BYPASS_IDLE=backoff \
    timeout 120 "$CLIENT" --connect=198.18.0.1:7 --timeout_s=90 "$@" >"$TMP/client-$name.log" 2>&1 ||
    fail "tcp_echo_client $name: $(grep -v '^grpc-bypass' "$TMP/client-$name.log" | tail -2)"
  cat "$TMP/client-$name.log" | grep -E '^(bulk|pingpong)'
  kill -TERM "$spid"; wait "$spid" || fail "tcp_echo ($name) exited non-zero"
  rm -f "$SOCK"
}

run_pair 1500 bulk --mode=bulk --bytes=$((16 << 20))
grep -q '^bulk: 16777216 bytes echoed and verified' "$TMP/client-bulk.log" || fail "bulk"
pass "16 MiB over memif, every byte verified"

run_pair 1500 pingpong --mode=pingpong --count=10000 --size=64
grep -q '^pingpong: 10000 round trips of 64 B' "$TMP/client-pingpong.log" || fail "pingpong"
pass "10 000 ping-pongs of 64 B over memif"

echo "2 passed, 0 failed"
