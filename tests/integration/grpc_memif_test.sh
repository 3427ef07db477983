#!/usr/bin/env bash
# End-to-end 3 and 6 of the gRPC-integration issue, between two DPDK processes over net_memif:
# 3: our greeter_server and greeter_client, 200 calls on one channel, then 1000 channels
#    opened and closed one after another; allkinds_server/client: the four RPC kinds,
#    cancellation mid-stream and a stream cut by its deadline;
# 6: fallback: the same bypass-enabled client process also calls a kernel greeter_server on
#    127.0.0.1 (through gRPC's posix transport) and reaches both.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/greeter/greeter_server)"
CLIENT="$(bin examples/greeter/greeter_client)"
SOCK="$TMP/memif.sock"
make_ns gmemif
n=0
start_server() {
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "gms$1$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
    BYPASS_IP=198.18.0.1/24 BYPASS_IDLE=backoff "$SERVER" --port=50051 >"$TMP/server$1.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_for_line "$TMP/server$1.log" 'listening on .*\(bypass\)' 20
}
run_client() {  # run_client NAME ARGS...
  local name="$1"; shift
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "gmc$name$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
    BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff timeout 300 "$CLIENT" --name="$name" "$@" >"$TMP/client-$name.log" 2>&1 ||
    fail "greeter_client $name: $(grep -v '^grpc-bypass' "$TMP/client-$name.log" | tail -2)"
}
stop_server() { kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"; rm -f "$SOCK"; }

# ---- 3 + 6 -------------------------------------------------------------------------------
ip netns exec "$NS" "$SERVER" --port=50052 >"$TMP/kernel_server.log" 2>&1 &  # no BYPASS_*: kernel
PIDS+=("$!")
wait_for_line "$TMP/kernel_server.log" 'listening on .*\(kernel\)' 20
start_server a
run_client both --target=198.18.0.1:50051 --also_target=127.0.0.1:50052 --count=200
L="$TMP/client-both.log"
grep -q '^Greeter at 198.18.0.1:50051 received: Hello both' "$L" || fail "bypass server reply"
pass "200 calls to our server over memif"; n=$((n+1))
grep -q '^Greeter at 127.0.0.1:50052 received: Hello both' "$L" || fail "kernel server reply"
grep -qE 'grpc bypass connects [1-9][0-9]* accepts 0 kernel connects [1-9]' "$L" ||
  fail "expected both bypass and kernel connects: $(grep '^grpc-bypass' "$L")"
pass "fallback: the same process reached a kernel server on 127.0.0.1 through the posix transport"; n=$((n+1))
stop_server

start_server b
run_client churn --target=198.18.0.1:50051 --count=1000 --new_channel_per_call
grep -q '^Greeter at 198.18.0.1:50051 received: Hello churn' "$TMP/client-churn.log" || fail "churn"
grep -qE 'grpc bypass connects (1000|[1-9][0-9]{3,})' "$TMP/client-churn.log" ||
  fail "expected 1000 bypass connects: $(grep '^grpc-bypass' "$TMP/client-churn.log")"
pass "1000 channels opened and closed one after another over memif"; n=$((n+1))
stop_server

# ---- the four RPC kinds ----------------------------------------------------------------------
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "aks$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
  BYPASS_IP=198.18.0.1/24 BYPASS_IDLE=backoff "$(bin examples/allkinds/allkinds_server)" --port=50055 \
  --permit_keepalive_ms=50 \
  >"$TMP/allkinds_server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_for_line "$TMP/allkinds_server.log" 'listening on .*\(bypass\)' 20
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "akc$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff GRPC_TRACE=http_keepalive GRPC_VERBOSITY=INFO timeout 120 \
  "$(bin examples/allkinds/allkinds_client)" --target=198.18.0.1:50055 --keepalive_ms=200 \
  --idle_ms=4500 >"$TMP/allkinds_client.log" 2>&1 ||
  fail "allkinds_client: $(grep -E '^FAILED' "$TMP/allkinds_client.log")"
grep -E '^ok: ' "$TMP/allkinds_client.log" | sed 's/^/  /'
[[ $(grep -c '^ok: ' "$TMP/allkinds_client.log") == 7 ]] || fail "expected 7 checks"
pass "unary 1 MiB, server/client streaming, bidi, cancellation, deadline over memif"; n=$((n+1))
# Keepalive: pings asked every 200 ms (gRPC 1.51 spaces pings without data at least 1 s apart,
# chttp2 writing.cc), each answered by the server over the bypass ("Finish" is logged when the
# ack arrives); the channel kept its one connection through 4.5 s idle.
pings=$(grep -c 'Finish keepalive ping' "$TMP/allkinds_client.log")
[[ $pings -ge 3 ]] || fail "expected >= 3 acknowledged keepalive pings, saw $pings"
grep -qE 'grpc bypass connects 1 ' "$TMP/allkinds_client.log" ||
  fail "the channel reconnected: $(grep '^grpc-bypass' "$TMP/allkinds_client.log")"
pass "keepalive: $pings pings acknowledged over memif, one connection throughout"; n=$((n+1))
stop_server
echo "$n passed, 0 failed"
