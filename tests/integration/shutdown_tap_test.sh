#!/usr/bin/env bash
# Shutdown with work in flight, over net_tap: allkinds_server on the bypass, Debian's
# python3-grpcio in the test's namespace holding 20 open server streams; SIGTERM must end the
# server promptly with exit 0, every client call must end, the stats file must be gone.
# tools/test runs this test twice: as built, and with --config=asan, where the server is
# built with ASan + UBSan and runs with LeakSanitizer on: then any sanitizer report (a leak,
# a use-after-free in the shutdown path, undefined behaviour) fails the test.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/allkinds/allkinds_server)"
PYA="$(dirname "$0")/py_allkinds.py"
mode=plain
if ldd "$SERVER" | grep -q libasan; then
  mode=asan
  # Leak checking at exit; a report makes the exit status 23 (and is in the log). Appended to
  # the test environment's own options (a later option wins).
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0:exitcode=23
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
serve_on_tap sd bps0 60 "$SERVER" --port=50057
n=0

# A few calls first, so that the shutdown also has closed connections and freed buffers behind it.
ip netns exec "$NS" timeout 60 "$PY" "$PYA" 198.18.0.2:50057 unary_many 20 65536 >/dev/null ||
  fail "calls before the shutdown: $(tail -3 "$TMP/server.log")"
ip netns exec "$NS" timeout 60 "$PY" "$PYA" 198.18.0.2:50057 hold_streams 20 >"$TMP/hold.out" 2>&1 &
HP=$!
for _ in $(seq 200); do grep -q '^open' "$TMP/hold.out" && break; sleep 0.1; done
grep -q '^open' "$TMP/hold.out" || fail "streams did not open: $(cat "$TMP/hold.out")"
t0=$(date +%s%N)
kill -TERM "$SPID"
set +e
wait "$SPID"
rc=$?
set -e
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|LeakSanitizer has encountered|runtime error:' "$TMP/server.log"; then
  grep -E -A12 'ERROR: (LeakSanitizer|AddressSanitizer)|LeakSanitizer has encountered|runtime error:' "$TMP/server.log" | head -40 >&2
  fail "sanitizer report on shutdown ($mode)"
fi
[[ $rc == 0 ]] || fail "allkinds_server exited $rc on SIGTERM with active streams ($mode): $(tail -3 "$TMP/server.log")"
[[ $dt -lt 15000 ]] || fail "shutdown took $dt ms"
wait "$HP" || fail "client: $(cat "$TMP/hold.out")"
grep -q 'all 20 streams ended' "$TMP/hold.out" || fail "$(cat "$TMP/hold.out")"
[[ ! -e "/dev/shm/grpc-bypass-$SPID.stats" ]] || fail "stats file left behind"
grep -q 'grpc-bypass: dpdk rx' "$TMP/server.log" || fail "no bypass summary at exit"
if [[ $mode == asan ]]; then
  pass "SIGTERM with 20 active streams under ASan + LeakSanitizer: exit 0 in $dt ms, no report, every stream ended"
else
  pass "SIGTERM with 20 active streams: exit 0 in $dt ms, every stream ended"
fi
n=$((n + 1))
echo "$n passed, 0 failed"
