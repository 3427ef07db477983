#!/usr/bin/env bash
# The ThreadSanitizer set-up can fail: a deliberate race is reported, a hand-off under an
# absl::Mutex (Abseil's TSan build, as gRPC's locks) is not. Only under --config=tsan.
set -uo pipefail
BIN="$TEST_SRCDIR/$TEST_WORKSPACE/tests/tsan/race_canary"
out="$("$BIN" racy 2>&1)"; rc=$?
echo "$out" | grep -q "WARNING: ThreadSanitizer: data race" ||
  { echo "FAIL: the deliberate race was not reported (rc $rc): is this a --config=tsan build?"; exit 1; }
echo "ok: the deliberate race is reported (exit $rc)"
out="$("$BIN" locked 2>&1)"; rc=$?
[[ $rc -eq 0 ]] && ! echo "$out" | grep -q "ThreadSanitizer" ||
  { echo "FAIL: a report for data handed over under absl::Mutex (rc $rc): is the TSan Abseil on LD_LIBRARY_PATH?"; echo "$out" | head -20; exit 1; }
echo "ok: no report for data handed over under absl::Mutex"
