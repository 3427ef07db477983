#!/usr/bin/env bash
# Loss and reordering between two bypass processes over net_memif: both stacks drop 5 % and
# hold back 2 % of the frames they receive (BYPASS_FAULTS, seeded, in the device layer);
# allkinds_client makes 500 unary calls of 64 KiB to allkinds_server, every byte checked.
# Then a bad BYPASS_FAULTS value is refused with one line.
. "$(dirname "$0")/lib.sh"
SOCK="$TMP/memif.sock"
make_ns relm
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "rms$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
  BYPASS_IP=198.18.0.1/24 BYPASS_IDLE=backoff BYPASS_FAULTS=drop=0.05,reorder=0.02,seed=11 \
  "$(bin examples/allkinds/allkinds_server)" --port=50055 >"$TMP/server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_for_line "$TMP/server.log" 'listening on .*\(bypass\)' 20
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "rmc$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff BYPASS_FAULTS=drop=0.05,reorder=0.02,seed=12 \
  timeout 300 "$(bin examples/allkinds/allkinds_client)" --target=198.18.0.1:50055 \
  --unary_many=500 --unary_bytes=65536 >"$TMP/client.log" 2>&1 || fail "client: $(grep -E '^(FAILED|ok)' "$TMP/client.log")"
grep -q '^ok: 500 unary calls of 65536 bytes, every byte verified (0 bad)' "$TMP/client.log" || fail "$(cat "$TMP/client.log")"
drops=$(sed -n 's/^faults: drops \([0-9]*\) reorders \([0-9]*\)/\1/p' "$TMP/client.log")
reorders=$(sed -n 's/^faults: drops \([0-9]*\) reorders \([0-9]*\)/\2/p' "$TMP/client.log")
[[ ${drops:-0} -gt 100 && ${reorders:-0} -gt 20 ]] || fail "the shim did little: drops $drops reorders $reorders"
pass "5 % drop + 2 % reorder both ways over memif: $(sed -n 's/^ok: //p' "$TMP/client.log"); client dropped $drops, reordered $reorders"
kill -TERM "$SPID"; wait "$SPID" || fail "server exit"
out="$(ip netns exec "$NS" env BYPASS_EAL="$(eal_args "rmx$TEST_ID" 0 net_ring0)" BYPASS_IP=198.18.0.1/24 \
  BYPASS_FAULTS=drop=2 "$(bin examples/allkinds/allkinds_server)" 2>&1)" && fail "a bad BYPASS_FAULTS was accepted"
[[ "$(echo "$out" | grep -c 'BYPASS_FAULTS')" == 1 ]] || fail "expected one line naming BYPASS_FAULTS: $out"
pass "bad BYPASS_FAULTS refused: $(echo "$out" | grep BYPASS_FAULTS)"
echo "2 passed, 0 failed"
