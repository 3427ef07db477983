#!/usr/bin/env bash
# Runs a test binary that starts a grpc-bypass stack on a net_tap port (bpk0) inside a new
# network namespace: the stack owns 198.18.0.2 / fd00:77::2, the kernel 198.18.0.1 /
# fd00:77::1 (set by KERNEL_SETUP once the binary has created the tap interface).
#   run_in_tap_ns.sh BINARY [ARGS...]
. "${TEST_SRCDIR:-$(dirname "$0")/../..}/${TEST_WORKSPACE:-grpc_bypass}/tests/integration/lib.sh"
BIN="$(bin "$1")"; shift
make_ns eng
set +e
ip netns exec "$NS" env \
  BYPASS_EAL="$(eal_args "eng$TEST_ID" 0 net_tap0,iface=bpk0)" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IP6=fd00:77::2/64 BYPASS_IDLE="${BYPASS_IDLE:-backoff}" \
  KERNEL_SETUP="ip addr add fd00:77::1/64 dev bpk0 nodad && ip addr add 198.18.0.1/24 dev bpk0 && ip link set bpk0 up && ping -6 -c 1 -W 3 fd00:77::2 >/dev/null && ping -c 1 -W 3 198.18.0.2 >/dev/null" \
  timeout 600 "$BIN" "$@" 2>&1 | tee "$TMP/run.log" | grep --line-buffered -vE '^(D|I)[0-9]{4} '
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -c '^\[       OK \]' "$TMP/run.log" || true)
failed=$(grep -c '^\[  FAILED  \] .*(' "$TMP/run.log" || true)
echo "$passed passed, $failed failed"
[[ $rc == 0 && $passed -gt 0 ]] || fail "$(basename "$BIN"): exit $rc, $passed passed, $failed failed"
