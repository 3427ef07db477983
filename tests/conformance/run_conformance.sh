#!/usr/bin/env bash
# Runs gRPC's EventEngine conformance suite against our engine inside a test namespace.
. "$(dirname "$0")/../integration/lib.sh"
BIN="$(bin tests/conformance/lwip_engine_conformance_bin)"
make_ns conf
set +e
ip netns exec "$NS" env \
  BYPASS_EAL="$(eal_args "conf$TEST_ID" 0 net_tap0,iface=bpc0)" \
  BYPASS_IP=198.18.0.2/24 BYPASS_IP6=fd00:77::2/64 BYPASS_IDLE=backoff \
  CONFORMANCE_KERNEL_SETUP="ip addr add fd00:77::1/64 dev bpc0 nodad && ip addr add 198.18.0.1/24 dev bpc0 && ip link set bpc0 up && ping -6 -c 1 -W 3 fd00:77::2 >/dev/null" \
  timeout 300 "$BIN" "$@" 2>&1 | tee "$TMP/conformance.log" | grep -vE '^(D|I)[0-9]{4} '
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -c '^\[       OK \]' "$TMP/conformance.log" || true)
failed=$(grep -c '^\[  FAILED  \] .*(' "$TMP/conformance.log" || true)
echo "$passed passed, $failed failed"
[[ $rc == 0 && $passed -ge 11 ]] || fail "conformance suite: exit $rc, $passed passed"
