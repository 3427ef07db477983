#!/usr/bin/env bash
# Counters for monitoring (issue 14): a greeter_server over net_memif serves 200 calls; then
#  - bypass_stat removes the stats file of a process that no longer exists and does not list it;
#  - bypass_stat --prometheus on a snapshot of the server's stats file (FormatStats(GetStats()))
#    parses with the official Python client library, one sample per counter, same values and
#    types; on the live process the traffic counters moved;
#  - --textfile writes a .prom file that Debian's prometheus-node-exporter (its textfile
#    collector, listening on loopback in the test's namespace) serves with the same values;
#  - the accepts counter equals the one in the server's own summary at exit.
. "$(dirname "$0")/lib.sh"
STAT="$(bin tools/stat/bypass_stat)"
CHECK="$(dirname "$0")/prom_check.py"
SERVER="$(bin examples/greeter/greeter_server)"
CLIENT="$(bin examples/greeter/greeter_client)"
SOCK="$TMP/memif.sock"
make_ns prom
n=0
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "prs$TEST_ID" 0 "net_memif0,role=server,socket=$SOCK")" \
  BYPASS_IP=198.18.0.1/24 BYPASS_IDLE=backoff BYPASS_STATS_INTERVAL_MS=100 "$SERVER" --port=50051 \
  >"$TMP/server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_for_line "$TMP/server.log" 'listening on .*\(bypass\)' 20
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "prc$TEST_ID" 1 "net_memif0,role=client,socket=$SOCK")" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff BYPASS_STATS_FILE=off timeout 120 "$CLIENT" \
  --target=198.18.0.1:50051 --count=200 >"$TMP/client.log" 2>&1 || fail "greeter_client"
sleep 0.5  # the server's file is rewritten every 100 ms

# A stats file left by a process that was killed (a pid that certainly exited).
DEAD=$(sh -c 'echo $$')
while kill -0 "$DEAD" 2>/dev/null; do sleep 0.05; done
cp "/dev/shm/grpc-bypass-$SPID.stats" "/dev/shm/grpc-bypass-$DEAD.stats"
"$STAT" >"$TMP/list.txt" 2>"$TMP/list.err" || fail "bypass_stat lists nothing"
grep -qx "/dev/shm/grpc-bypass-$SPID.stats" "$TMP/list.txt" || fail "the server is not listed"
! grep -q "grpc-bypass-$DEAD.stats" "$TMP/list.txt" || fail "a dead process is listed"
[[ ! -e "/dev/shm/grpc-bypass-$DEAD.stats" ]] || fail "the stale file is still there"
grep -q "removed /dev/shm/grpc-bypass-$DEAD.stats (process $DEAD has exited)" "$TMP/list.err" ||
  fail "no note about the stale file: $(cat "$TMP/list.err")"
pass "bypass_stat removed the stale stats file of exited process $DEAD and lists only the server"
n=$((n+1))

# The format, checked against a snapshot of the file (the live one changes every 100 ms).
cp "/dev/shm/grpc-bypass-$SPID.stats" "$TMP/grpc-bypass-$SPID.stats"
"$STAT" --prometheus "$TMP/grpc-bypass-$SPID.stats" >"$TMP/snap.prom" || fail "bypass_stat --prometheus FILE"
"$PY" "$CHECK" snapshot "$TMP/grpc-bypass-$SPID.stats" "$TMP/snap.prom" "$SPID" >"$TMP/snap.txt" ||
  fail "snapshot"
pass "Prometheus format: $(cat "$TMP/snap.txt")"
n=$((n+1))
"$STAT" --prometheus "$SPID" >"$TMP/live.prom" || fail "bypass_stat --prometheus PID"
"$PY" "$CHECK" live "$TMP/live.prom" "$SPID" 200 1 || fail "live"
pass "live process: traffic counters moved"; n=$((n+1))

# node_exporter's textfile collector, on loopback in the namespace.
mkdir -p "$TMP/textfile"
"$STAT" --prometheus --textfile="$TMP/textfile/grpc_bypass.prom" "$SPID" || fail "--textfile"
ls "$TMP/textfile" | grep -q '\.tmp' && fail "temporary file left behind"
ip netns exec "$NS" /usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:9911 \
  --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$TMP/textfile" >"$TMP/node_exporter.log" 2>&1 &
PIDS+=("$!")
for ((i = 0; i < 100; i++)); do
  ip netns exec "$NS" ss -ltnH | grep -q '127.0.0.1:9911 ' && break
  sleep 0.1
done
ip netns exec "$NS" "$PY" "$CHECK" same "$TMP/textfile/grpc_bypass.prom" http://127.0.0.1:9911/metrics ||
  fail "node_exporter"
pass "node_exporter (textfile collector) serves our counters with the same values"; n=$((n+1))

# The server's own summary at exit (GetBridgeStats, not the stats file) agrees.
acc=$("$PY" "$CHECK" get "$TMP/live.prom" grpc_bypass_grpc_bypass_accepts_total "$SPID")
kill -TERM "$SPID"
wait "$SPID" || fail "greeter_server exited non-zero"
grep -qE "accepts $acc kernel" "$TMP/server.log" ||
  fail "accepts $acc in Prometheus' format, summary: $(grep -o 'accepts [0-9]* kernel' "$TMP/server.log")"
[[ ! -e "/dev/shm/grpc-bypass-$SPID.stats" ]] || fail "the server left its stats file behind"
pass "accepts ($acc) match the server's summary at exit; the file is gone with the process"
n=$((n+1))
echo "$n passed, 0 failed"
