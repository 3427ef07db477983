#!/usr/bin/env bash
# A callback reaction that blocks does not stall the rest of the server (the pollset
# bridge's owed kicks, pollset_bridge.cc): stalled_reaction_server over the bypass (net_tap in
# a test namespace) streams 40 messages to Debian's python3-grpcio; the OnWriteDone of
# message 5 starts message 6 and then sleeps 1000 ms. The completion of message 6's write is
# one the sleeping thread made itself, so its kick is owed to that thread; the stack's
# background poller must pass it on (grpc.pollset_owed_passed_on) to gRPC's other waiting
# thread, which carries the stream on during the sleep: the longest gap between two replies
# stays under 300 ms. Without the hand-over it is the whole 1000 ms.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin tests/integration/stalled_reaction_server)"
PYK="$(dirname "$0")/py_allkinds.py"
serve_on_tap stall bps0 20 BYPASS_STATS_INTERVAL_MS=50 "$SERVER" --port=50056 --stall_at=5 --stall_ms=1000
out="$(ip netns exec "$NS" timeout 60 "$PY" "$PYK" 198.18.0.2:50056 stream_gaps 40)" ||
  fail "the stream did not complete: $out $(tail -3 "$TMP/server.log")"
echo "$out"
gap="$(echo "$out" | sed -nE 's/.*longest gap ([0-9.]+) ms.*/\1/p')"
[[ -n "$gap" ]] || fail "no gap in '$out'"
awk -v g="$gap" 'BEGIN { exit !(g < 300) }' ||
  fail "the stream stood still for $gap ms while one reaction slept 1000 ms: its owed kick was not passed on"
pass "40 replies, longest gap $gap ms while one reaction slept 1000 ms"
sleep 1.2  # the sleeping reaction returns; the stats file is rewritten every 50 ms
cp "/dev/shm/grpc-bypass-$SPID.stats" "$TMP/s.stats" || fail "no stats file for the server"
passed_on="$(awk '$1 == "grpc.pollset_owed_passed_on" { print $2 }' "$TMP/s.stats")"
owed="$(awk '$1 == "grpc.pollset_kicks_owed" { print $2 }' "$TMP/s.stats")"
[[ ${passed_on:-0} -ge 1 ]] || fail "grpc.pollset_owed_passed_on is '${passed_on}' (kicks owed: ${owed}): the hand-over did not happen"
pass "kicks owed $owed, passed on by the background poller $passed_on"
kill -TERM "$SPID"; wait "$SPID" || fail "stalled_reaction_server exited non-zero: $(tail -3 "$TMP/server.log")"
