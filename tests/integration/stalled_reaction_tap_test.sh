#!/usr/bin/env bash
# A callback reaction that blocks stalls neither its own stream nor the rest of the server:
# stalled_reaction_server over the bypass (net_tap in a test namespace) streams 40 messages to
# Debian's python3-grpcio; on the first stream (A) the OnWriteDone of message 5 starts message
# 6 and then sleeps 1000 ms. Stream B starts 300 ms into that sleep and must finish in under
# 300 ms; A's longest gap between two replies must stay under 300 ms.
# - gRPC < 1.60 (the pollset bridge's owed kicks, pollset_bridge.cc): the completion of
#   message 6's write is one the sleeping thread made itself, so its kick is owed to that
#   thread; the background poller passes it on (grpc.pollset_owed_passed_on) to gRPC's other
#   waiting thread.
# - gRPC >= 1.60: reactions run as EventEngine closures inside a polling thread's spin. The
#   background poller polls beside the spinner that is away (poll.spinner_away_passes), and
#   the closures queued behind the sleeping one go to the executor (engine.runs_rescued).
# Without these, the 1000 ms sleep shows in both streams (measured on 1.83 before the fix:
# A's gap 995 ms, B 737 ms).
# Argument: gRPC's minor version.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin tests/integration/stalled_reaction_server)"
PYK="$(dirname "$0")/py_allkinds.py"
serve_on_tap stall bps0 20 BYPASS_STATS_INTERVAL_MS=50 "$SERVER" --port=50056 --stall_at=5 --stall_ms=1000
# Stream A blocks one reaction; stream B starts 300 ms into that sleep and must not wait for it.
ip netns exec "$NS" timeout 60 "$PY" "$PYK" 198.18.0.2:50056 stream_gaps 40 >"$TMP/a.out" 2>&1 &
APID=$!
sleep 0.3
outb="$(ip netns exec "$NS" timeout 60 "$PY" "$PYK" 198.18.0.2:50056 stream_gaps 40)" ||
  fail "stream B did not complete: $outb $(tail -3 "$TMP/server.log")"
wait "$APID" || fail "stream A did not complete: $(cat "$TMP/a.out") $(tail -3 "$TMP/server.log")"
out="$(cat "$TMP/a.out")"
echo "A: $out"; echo "B: $outb"
# The server's counters once both streams have ended (the stats file is rewritten every 50 ms):
state="$(awk '$1 ~ /^(poll\.(spinner_away_passes|background_passes|spin_passes|sleeps|wakeups|takeovers|watch_sleeps)|engine\.(runs_rescued|runs_executor|runs_after_callback|executor_queued|completions_executor|completions_inline|endpoints_opened)|grpc\.pollset_(spins|not_spun|owed_passed_on|kicks_owed))$/ {printf "%s=%s ", $1, $2}' "/dev/shm/grpc-bypass-$SPID.stats" 2>/dev/null)"
total_b="$(echo "$outb" | sed -nE 's/.* in ([0-9.]+) ms.*/\1/p')"
[[ -n "$total_b" ]] || fail "no total in '$outb'"
awk -v t="$total_b" 'BEGIN { exit !(t < 300) }' ||
  fail "stream B, started while a reaction of stream A slept, took $total_b ms: the server stood still (server: $state)"
pass "stream B took $total_b ms while a reaction of stream A slept (server: $state)"
gap="$(echo "$out" | sed -nE 's/.*longest gap ([0-9.]+) ms.*/\1/p')"
[[ -n "$gap" ]] || fail "no gap in '$out'"
awk -v g="$gap" 'BEGIN { exit !(g < 300) }' ||
  fail "stream A stood still for $gap ms while one of its reactions slept 1000 ms (server: $state)"
pass "40 replies, longest gap $gap ms while one reaction slept 1000 ms"
sleep 1.2  # the sleeping reaction returns; the stats file is rewritten every 50 ms
cp "/dev/shm/grpc-bypass-$SPID.stats" "$TMP/s.stats" || fail "no stats file for the server"
counter() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/s.stats"; }
if [[ "${1:?gRPC minor version}" -lt 60 ]]; then
  passed_on="$(counter grpc.pollset_owed_passed_on)"
  [[ ${passed_on:-0} -ge 1 ]] ||
    fail "grpc.pollset_owed_passed_on is '${passed_on}' (kicks owed: $(counter grpc.pollset_kicks_owed)): the hand-over did not happen"
  pass "kicks owed $(counter grpc.pollset_kicks_owed), passed on by the background poller $passed_on"
else
  away="$(counter poll.spinner_away_passes)" rescued="$(counter engine.runs_rescued)"
  [[ ${away:-0} -ge 1 ]] || fail "poll.spinner_away_passes is '${away}': nobody polled beside the sleeping spinner"
  [[ ${rescued:-0} -ge 1 ]] || fail "engine.runs_rescued is '${rescued}': the closures behind the sleeping one waited for it"
  pass "background passes beside the away spinner $away, closures rescued $rescued"
fi
kill -TERM "$SPID"; wait "$SPID" || fail "stalled_reaction_server exited non-zero: $(tail -3 "$TMP/server.log")"
