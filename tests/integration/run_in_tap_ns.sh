#!/usr/bin/env bash
# Runs a test binary that starts a grpc-bypass stack on a net_tap port (bpk0) inside a new
# network namespace: the stack owns 198.18.0.2 / fd00:77::2, the kernel 198.18.0.1 /
# fd00:77::1 (set by KERNEL_SETUP once the binary has created the tap interface).
#   run_in_tap_ns.sh [--each-alone] BINARY [ARGS...]
. "${TEST_SRCDIR:-$(dirname "$0")/../..}/${TEST_WORKSPACE:-grpc_bypass}/tests/integration/lib.sh"
# --each-alone: every test of the binary in a process of its own (--gtest_filter=ONE), so
# that none depends on another having run before it.
EACH_ALONE=0
if [[ "$1" == --each-alone ]]; then EACH_ALONE=1; shift; fi
BIN="$(bin "$1")"; shift
make_ns eng
# run_bin ARGS...: the binary in the namespace, on its tap port; its log in $TMP/run.log.
run_bin() {
  ip netns exec "$NS" env \
    BYPASS_EAL="$(eal_args "eng$TEST_ID" 0 net_tap0,iface=bpk0)" \
    BYPASS_IP=198.18.0.2/24 BYPASS_IP6=fd00:77::2/64 BYPASS_IDLE="${BYPASS_IDLE:-backoff}" \
    KERNEL_SETUP="ip addr add fd00:77::1/64 dev bpk0 nodad && ip addr add 198.18.0.1/24 dev bpk0 && ip link set bpk0 up && ping -6 -c 1 -W 3 fd00:77::2 >/dev/null && ping -c 1 -W 3 198.18.0.2 >/dev/null" \
    timeout "${RUN_TIMEOUT_S:-600}" "$BIN" "$@" 2>&1 | tee "$TMP/run.log" | grep --line-buffered -vE '^(D|I)[0-9]{4} '
  return "${PIPESTATUS[0]}"
}
set +e
if [[ $EACH_ALONE == 1 ]]; then
  # gtest's list: "Suite." lines, then "  Name" lines (a parameter comment may follow). The
  # binary may set up its stack before gtest lists, so it lists in the namespace too.
  run_bin --gtest_list_tests >/dev/null
  mapfile -t TESTS < <(grep -E '^([A-Za-z0-9_/]+\.|  [A-Za-z0-9_/]+)' "$TMP/run.log" |
                       awk '/^[^ ]/ {s=$1} /^  / {print s $1}')
  [[ ${#TESTS[@]} -gt 0 ]] || fail "$(basename "$BIN"): no tests listed"
  bad=()
  # Each case gets 60 s (one takes at most a few): a case that hangs is then named as failed,
  # inside Bazel's limit for the whole target, instead of a TIMEOUT with an empty log.
  for t in "${TESTS[@]}"; do
    echo "each alone: $t"
    RUN_TIMEOUT_S=60 run_bin --gtest_filter="$t" "$@" >/dev/null
    r=$?
    [[ $r == 124 ]] && echo "each alone: $t did not end within 60 s"
    if [[ $r != 0 ]] || ! grep -q '^\[       OK \]' "$TMP/run.log"; then
      bad+=("$t"); tail -20 "$TMP/run.log"
    fi
  done
  set -e
  echo "each alone: $(( ${#TESTS[@]} - ${#bad[@]} )) of ${#TESTS[@]} passed"
  [[ ${#bad[@]} == 0 ]] || fail "alone, these failed: ${bad[*]}"
  exit 0
fi
run_bin "$@"
rc=$?
set -e
passed=$(grep -c '^\[       OK \]' "$TMP/run.log" || true)
failed=$(grep -c '^\[  FAILED  \] .*(' "$TMP/run.log" || true)
echo "$passed passed, $failed failed"
[[ $rc == 0 && $passed -gt 0 ]] || fail "$(basename "$BIN"): exit $rc, $passed passed, $failed failed"
