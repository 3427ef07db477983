#!/usr/bin/env bash
# Every server API and client API of the benchmark works over the bypass (net_memif, two
# processes): bench_server --api=sync|callback|async against bench_client --api=sync|callback,
# unary (one and four in flight) and a bidi ping-pong stream; each run completes every call
# with the right reply size (bench_client exits non-zero otherwise), reports the server's API
# as the server says it (CpuReply.api) and counts the calls it made; unary one at a time from
# the sync client costs the server at most one context switch per call. The async server drains
# its completion queues on SIGTERM and exits 0.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/bench/bench_server)"
CLIENT="$(bin examples/bench/bench_client)"
SOCK="$TMP/memif.sock"
make_ns apis
N=300
run_client() {  # run_client NAME ARGS...: one bench_client run over the bypass; prints its RUN json
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "ac$1$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
    BYPASS_IP=198.18.0.2/24 BYPASS_SUMMARY=0 timeout 60 "$CLIENT" --transport=bypass \
    --target=198.18.0.1:50080 --count=$N --warmup=20 "${@:2}" 2>"$TMP/client-$1.log" | sed -n 's/^RUN //p'
}
field() { echo "$1" | sed -nE "s/.*\"$2\":\"?([a-z0-9._]+)\"?.*/\1/p"; }
for sapi in sync callback async; do
  rm -f "$SOCK"
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "as$sapi$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
    BYPASS_IP=198.18.0.1/24 "$SERVER" --port=50080 --api=$sapi >"$TMP/server-$sapi.log" 2>&1 &
  SPID=$!; PIDS+=("$SPID")
  wait_for_line "$TMP/server-$sapi.log" 'listening on .*\(bypass\)' 20
  i=0
  for capi in sync callback; do
    for args in "--workload=unary" "--workload=unary --outstanding=4" "--workload=stream_pingpong"; do
      i=$((i + 1))
      # shellcheck disable=SC2086
      run="$(run_client "$sapi$i" --api=$capi $args)" || fail "$sapi server, $capi client, $args: $(tail -3 "$TMP/client-$sapi$i.log")"
      [[ "$(field "$run" count)" == "$N" ]] || fail "$sapi server, $capi client, $args: count $(field "$run" count), expected $N: $run"
      [[ "$(field "$run" server_api)" == "$sapi" ]] || fail "the report says server_api '$(field "$run" server_api)', the server is $sapi: $run"
      [[ "$(field "$run" client_api)" == "$capi" ]] || fail "the report says client_api '$(field "$run" client_api)', the client is $capi"
      if [[ $capi == sync && "$args" == "--workload=unary" ]]; then
        # Counted, not timed: one call at a time is served by the thread that polled it, on
        # every server API. The callback server on gRPC 1.51 took 4 context switches per call
        # before the pollset bridge owed its threads their own kicks (pollset_bridge.cc).
        # The best of up to five runs, a second apart: a run that another process preempts on
        # this shared machine (both processes then near one switch per call, a phase that can
        # last several seconds: 3 runs in a row at 1.02-1.06 seen in a full tools/test on
        # 2026-12-07) is not the server's doing. The bug this guards against was above 2 in
        # every run.
        csw="$(field "$run" server_ctx_switches_per_rpc)" all="$csw"
        for retry in 1 2 3 4; do
          awk -v c="$csw" 'BEGIN { exit !(c == "" || c > 1.0) }' || break
          sleep 1
          again="$(run_client "$sapi${i}r$retry" --api=$capi $args)" || fail "$sapi server, rerun $retry"
          csw="$(field "$again" server_ctx_switches_per_rpc)" all="$all $csw"
        done
        awk -v c="$csw" 'BEGIN { exit !(c != "" && c <= 1.0) }' ||
          fail "$sapi server: context switches per unary call in the server, runs: $all (at most 1 expected)"
        pass "$sapi server: $csw context switches per unary call in the server (runs: $all)"
      fi
    done
  done
  pass "$sapi server: sync and callback clients, unary x1 and x4 and ping-pong, $N calls each over the bypass"
  kill -TERM "$SPID"; wait "$SPID" || fail "the $sapi server exited non-zero: $(tail -3 "$TMP/server-$sapi.log")"
  grep -q "shut down" "$TMP/server-$sapi.log" || fail "the $sapi server did not shut down cleanly: $(tail -3 "$TMP/server-$sapi.log")"
  pass "$sapi server exits cleanly on SIGTERM"
done
# A bad API is one line and exit 2, on both programs.
out="$("$SERVER" --api=bogus 2>&1)" && fail "bench_server --api=bogus succeeded"
[[ "$out" == *"--api: 'bogus' is not sync, callback or async"* ]] || fail "bench_server --api=bogus: $out"
out="$("$CLIENT" --api=callback --workload=stream_throughput 2>&1)" && fail "bench_client accepted a callback stream_throughput"
[[ "$out" == *"--api=callback: for --workload=unary or stream_pingpong"* ]] || fail "bench_client: $out"
pass "a bad --api is refused in one line"
