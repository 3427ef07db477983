#!/usr/bin/env bash
# A server's ResourceQuota (ServerBuilder::SetResourceQuota) bounds the memory of connections
# accepted over the bypass as it does on the kernel path: 16 concurrent 1 MiB calls to a
# server with a 1 MiB quota are refused in part (RESOURCE_EXHAUSTED, or GOAWAY when gRPC's
# reclaimer closes the connection) on both paths, and the bypass server survives it (gRPC's
# reclaimer runs from an ExecCtx on the thread that polled the stack) and serves again.
# gRPC 1.83 refuses new connections while its memory-pressure estimate stays high (updated once
# a second and decaying: memory_quota.cc), on either path, so "serves again" means within 20 s,
# and the kernel path is held to the same.
# Before the fix the bypass listener charged gRPC's default, unlimited quota: all 16 succeeded.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/bench/bench_server)"
CLIENT="$(bin tests/integration/quota_client)"
SOCK="$TMP/memif.sock"
QUOTA=1048576
make_ns quota
refused() { echo "$1" | awk '{ print $5 + $7 }'; }
# serves_again FN: a small call with `FN ATTEMPT ARGS...`, retried until one succeeds (prints the
# seconds it took) or 20 s have passed (fails). Each probe is a new client process whose call has
# 3 s: gRPC 1.83's client can miss a GOAWAY that lands with the server's SETTINGS, before its
# subchannel watches the transport (chttp2 StartWatch checks only for a closed transport), and
# then retry the call transparently on that dead connection until its deadline (seen about once
# in 20 runs, with one connect attempt and "Got goaway ... Buffers full" in the probe's log). The
# server is not at fault there: the next probe, on a new connection, is served.
serves_again() {
  local t0=$SECONDS n=0 out
  while (( SECONDS - t0 < 20 )); do
    out="$("$1" "b$n" --calls=1 --payload=64 --deadline_ms=3000 2>&1)" || true
    [[ "$out" == *"quota_client: ok 1 "* ]] && { echo "$((SECONDS - t0)) s, $((n + 1)) attempts"; return 0; }
    n=$((n + 1)); sleep 0.5
  done
  echo "still refused after 20 s, $n attempts; the last one printed: $(echo "$out" | tail -4 | tr '\n' '|')"; return 1
}
kclient() { ip netns exec "$NS" timeout 60 "$CLIENT" --target=127.0.0.1:50071 "${@:2}"; }

# The kernel path: the same server without BYPASS_*: the reference behaviour.
ip netns exec "$NS" "$SERVER" --port=50071 --resource_quota_bytes=$QUOTA >"$TMP/kernel_server.log" 2>&1 &
KPID=$!; PIDS+=("$KPID")
wait_for_line "$TMP/kernel_server.log" 'listening on .*\(kernel\)' 20
line="$(ip netns exec "$NS" timeout 60 "$CLIENT" --target=127.0.0.1:50071 --calls=16)" || fail "kernel: $line"
echo "kernel: $line"
[[ $(refused "$line") -gt 0 ]] || fail "the kernel path refused nothing: the test cannot tell ($line)"
pass "kernel path: $(refused "$line") of 16 calls refused under a 1 MiB quota"
after="$(serves_again kclient)" || fail "the kernel path did not serve a small call afterwards: $after"
pass "the kernel path serves again afterwards ($after)"
kill -TERM "$KPID"; wait "$KPID" || true

# The bypass over memif.
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "qs$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
  BYPASS_IP=198.18.0.1/24 "$SERVER" --port=50070 --resource_quota_bytes=$QUOTA >"$TMP/server.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
wait_for_line "$TMP/server.log" 'listening on .*\(bypass\)' 20
client() {
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "qc$1$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
    BYPASS_IP=198.18.0.2/24 timeout 60 "$CLIENT" --target=198.18.0.1:50070 "${@:2}"
}
line="$(client a --calls=16)" || fail "bypass: $line"
echo "bypass: $line"
[[ $(refused "$line") -gt 0 ]] || fail "the bypass refused nothing: the server's quota was not applied ($line)"
pass "bypass: $(refused "$line") of 16 calls refused under the same quota"
after="$(serves_again client)" || fail "the bypass server did not serve a small call afterwards: $after"
pass "the bypass server serves again afterwards ($after)"
kill -TERM "$SPID"; wait "$SPID" || fail "bench_server exited non-zero: $(tail -3 "$TMP/server.log")"
pass "and exits cleanly"
