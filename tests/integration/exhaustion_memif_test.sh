#!/usr/bin/env bash
# Exhaustion between two bypass processes over net_memif: the server has a tiny mbuf pool
# (rings of 64 descriptors and 64 spare mbufs: 192 in all, BYPASS_DESCRIPTORS=64
# BYPASS_MBUFS=64) and a TX ring that takes at most 1 frame per flush
# (BYPASS_FAULTS=tx_limit=1). 50 unary calls of 1 MiB (more frames than the pool has mbufs) must still complete, every byte
# checked; the counters must show the back-pressure (TX retries, RX without mbufs or lwIP
# out of memory); nothing aborts; afterwards the pool is back at its baseline and a plain
# server-side configuration serves at full speed again.
. "$(dirname "$0")/lib.sh"
SOCK="$TMP/memif.sock"
SERVER="$(bin examples/allkinds/allkinds_server)"
CLIENT="$(bin examples/allkinds/allkinds_client)"
STAT="$(bin tools/stat/bypass_stat)"
make_ns exh
start_server() {  # start_server EXTRA_ENV...
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "exs$1$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
    BYPASS_IP=198.18.0.1/24 BYPASS_IDLE=backoff BYPASS_STATS_INTERVAL_MS=200 "${@:2}" "$SERVER" --port=50055 \
    >"$TMP/server$1.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_for_line "$TMP/server$1.log" 'listening on .*\(bypass\)' 20
}
run_client() {  # run_client NAME ARGS...
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "exc$1$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
    BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff timeout 300 "$CLIENT" --target=198.18.0.1:50055 "${@:2}" \
    >"$TMP/client$1.log" 2>&1 || fail "client $1: $(grep -E '^(FAILED|ok)' "$TMP/client$1.log")"
}
statv() { "$STAT" "$SPID" | awk -v k="$1" '$1 == k {print $2}'; }

start_server a BYPASS_DESCRIPTORS=64 BYPASS_MBUFS=64 BYPASS_FAULTS=tx_limit=1
sleep 0.5
base=$(statv port0.mempool_in_use); size=$(statv port0.mempool_size)
run_client a --unary_many=50 --unary_bytes=1048576
grep -q "^ok: 50 unary calls of 1048576 bytes, every byte verified (0 bad)" "$TMP/clienta.log" || fail "$(cat "$TMP/clienta.log")"
sleep 0.5
retries=$(statv port0.tx_retries); nombuf=$(statv port0.rx_nombuf); txnomem=$(statv netif.tx_nomem)
[[ $retries -gt 0 ]] || fail "no TX back-pressure counted"
[[ $((nombuf + txnomem)) -gt 0 ]] || fail "the pool never ran out (rx_nombuf $nombuf, tx_nomem $txnomem): no exhaustion tested"
in_use=$(statv port0.mempool_in_use)
[[ $in_use -le $((base + 8)) ]] || fail "mbufs in use $in_use after the load (baseline $base)"
kill -TERM "$SPID"; wait "$SPID" || fail "the pressured server exited non-zero"
pass "pool of $size mbufs, TX 1 frame per flush: 50 x 1 MiB verified in $(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$TMP/clienta.log" | head -1) s; tx_retries $retries, rx_nombuf $nombuf, tx_nomem $txnomem; mbufs in use back to $in_use"
rm -f "$SOCK"

start_server b
run_client b --unary_many=50 --unary_bytes=1048576
grep -q "^ok: 50 unary calls" "$TMP/clientb.log" || fail "$(cat "$TMP/clientb.log")"
kill -TERM "$SPID"; wait "$SPID" || fail "server exit"
pass "without the pressure: $(sed -n 's/^ok: //p' "$TMP/clientb.log" | head -1)"
echo "2 passed, 0 failed"
