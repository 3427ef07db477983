#!/usr/bin/env bash
# End-to-end 1: Debian's python3-grpcio (its own gRPC core, kernel sockets) calls our
# greeter_server, which runs over the bypass (net_tap in a test namespace): unary, a 4 MiB
# message, 100 concurrent RPCs, deadline exceeded. No kernel socket may listen on the port,
# and the server's DPDK counters must have grown.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/greeter/greeter_server)"
PYG="$(dirname "$0")/py_greeter.py"
make_ns grpc
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "gr$TEST_ID" 0 net_tap0,iface=bpg0)" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff "$SERVER" --port=50051 >"$TMP/server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_for_line "$TMP/server.log" 'listening on \[::\]:50051 \(bypass\)' 20
ip -n "$NS" addr add 198.18.0.1/24 dev bpg0
ip -n "$NS" link set bpg0 up
n=0
py() { ip netns exec "$NS" timeout 60 "$PY" "$PYG" 198.18.0.2:50051 "$@"; }
[[ "$(py unary python)" == "Hello python" ]] || fail "unary"; pass "unary: Hello python"; n=$((n+1))
py big $((4 << 20)) || fail "4 MiB"; pass "4 MiB request and reply"; n=$((n+1))
py concurrent 100 || fail "100 concurrent"; pass "100 concurrent RPCs"; n=$((n+1))
py deadline || fail "deadline"; pass "deadline exceeded"; n=$((n+1))
if ip netns exec "$NS" ss -ltnH | grep -q ':50051 '; then fail "a kernel socket listens on 50051"; fi
pass "no kernel socket listens on 50051"; n=$((n+1))
kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"
summary="$(grep '^grpc-bypass: dpdk rx' "$TMP/server.log")" || fail "no exit summary"
rx=$(echo "$summary" | sed -E 's/.*dpdk rx ([0-9]+) pkts.*/\1/')
acc=$(echo "$summary" | sed -E 's/.* accepts ([0-9]+) .*/\1/')
[[ $rx -gt 1000 && $acc -ge 4 ]] || fail "DPDK counters did not grow as expected: $summary"
pass "server counters: $rx frames received through DPDK, $acc connections accepted by the bypass"; n=$((n+1))
echo "$n passed, 0 failed"
