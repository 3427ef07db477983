#!/usr/bin/env bash
# grpc-js (a gRPC implementation of its own, in JavaScript, on kernel sockets) against the
# bypass, over net_tap in a test namespace; where grpc-js is installed (the modern root:
# tools/make_root puts it in /opt/grpc-bypass/grpcjs).
# 1: grpc-js client -> our greeter_server over the bypass: unary, a 4 MiB message, 100
#    concurrent calls, a deadline that expires; the server's counters show the bypass served.
# 2: our greeter_client over the bypass -> a grpc-js server on the kernel side: 50 calls.
. "$(dirname "$0")/lib.sh"
GJ=/opt/grpc-bypass/grpcjs
[[ -f "$GJ/node_modules/@grpc/grpc-js/package.json" ]] || fail "grpc-js is not installed at $GJ (tools/make_root)"
PROTO="$(bin proto/helloworld.proto)"
JS="$(dirname "$0")/grpcjs/greeter.js"
js() { ip netns exec "$NS" env NODE_PATH="$GJ/node_modules" timeout 90 node "$JS" "$PROTO" "$@"; }
SERVER="$(bin examples/greeter/greeter_server)"
serve_on_tap gjs bpj0 20 "$SERVER" --port=50051
n=0
[[ "$(js client 198.18.0.2:50051 unary grpcjs)" == "Hello grpcjs" ]] || fail "grpc-js unary"
pass "grpc-js client -> bypass server: unary (Hello grpcjs)"; n=$((n+1))
js client 198.18.0.2:50051 big $((4 << 20)) || fail "grpc-js 4 MiB"
pass "grpc-js client -> bypass server: 4 MiB request and reply"; n=$((n+1))
js client 198.18.0.2:50051 concurrent 100 || fail "grpc-js 100 concurrent"
pass "grpc-js client -> bypass server: 100 concurrent calls"; n=$((n+1))
js client 198.18.0.2:50051 deadline || fail "grpc-js deadline"
pass "grpc-js client -> bypass server: an expired deadline is DEADLINE_EXCEEDED"; n=$((n+1))
kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"
summary="$(grep '^grpc-bypass: dpdk rx' "$TMP/server.log")" || fail "no exit summary"
acc=$(echo "$summary" | sed -E 's/.* accepts ([0-9]+) .*/\1/')
[[ $acc -ge 4 ]] || fail "the bypass accepted $acc connections, expected 4 or more: $summary"
pass "server counters: $acc connections accepted by the bypass"; n=$((n+1))

# ---- 2: our client over the bypass -> grpc-js server on the kernel side ----------------
ip -n "$NS" link add bpk0 type veth peer name bpk1
ip -n "$NS" link set bpk1 up
ip -n "$NS" addr add 198.18.2.1/24 dev bpk0
ip -n "$NS" link set bpk0 up
js server 198.18.2.1:50062 >"$TMP/jsserver.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/jsserver.log" '^serving' 20
greeter_client_via_kernel_route bpj1 198.18.2.1:50062 50
pass "our client over the bypass -> grpc-js server on the kernel: 50 calls"; n=$((n+1))
echo "$n passed, 0 failed"
