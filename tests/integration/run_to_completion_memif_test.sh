#!/usr/bin/env bash
# Run to completion, counted (not timed): a sync greeter_server over net_memif (default idle
# mode) serves 500 blocking calls; its threads waiting on the completion queue poll the stack
# through the pollset bridge (gRPC 1.51 and 1.83), so most requests are read, parsed and handed
# to the handler by the thread that then runs it: the server's stats file shows pollset spins
# ended by their own completion for at least half the calls, and at most 2 % of the endpoint
# completions handed to the executor (the connection's set-up may be; per call none is).
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/greeter/greeter_server)"
CLIENT="$(bin examples/greeter/greeter_client)"
SOCK="$TMP/memif.sock"
CALLS=500
make_ns rtc
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "rts$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
  BYPASS_IP=198.18.0.1/24 BYPASS_STATS_INTERVAL_MS=50 "$SERVER" --port=50051 >"$TMP/server.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
wait_for_line "$TMP/server.log" 'listening on .*\(bypass\)' 20
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "rtc$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
  BYPASS_IP=198.18.0.2/24 BYPASS_STATS_FILE=off timeout 120 "$CLIENT" --target=198.18.0.1:50051 \
  --count=$CALLS >"$TMP/client.log" 2>&1 || fail "greeter_client: $(tail -2 "$TMP/client.log")"
sleep 0.3  # the stats file is rewritten every 50 ms
cp "/dev/shm/grpc-bypass-$SPID.stats" "$TMP/s.stats" || fail "no stats file for the server"
get() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/s.stats"; }
kicked=$(get grpc.pollset_spins_kicked); spins=$(get grpc.pollset_spins); exe=$(get engine.completions_executor)
inl=$(get engine.completions_inline)
echo "server: pollset spins $spins, ended by their own completion $kicked; endpoint completions inline $inl, on the executor $exe"
[[ -n "$kicked" && $kicked -ge $((CALLS / 2)) ]] ||
  fail "only $kicked of $CALLS calls were completed by the thread that polled (pollset bridge not polling?)"
pass "$kicked of $CALLS calls went from frame to handler on the polling thread"
[[ -n "$exe" && $exe -le $((CALLS / 50)) ]] || fail "$exe endpoint completions were handed to the executor"
pass "$exe endpoint completions were handed to the executor, $inl ran where they were polled"
kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"
