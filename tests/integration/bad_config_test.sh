#!/usr/bin/env bash
# Bad configuration ends the program with one clear line naming the variable, and exit 2.
# Nothing hangs (each run is bounded by timeout).
. "$(dirname "$0")/lib.sh"
ECHO="$(bin examples/tcp_echo)"
GOOD_EAL="--no-huge -m 256 --no-pci --no-shconf --no-telemetry --file-prefix=bad$TEST_ID --vdev=net_ring0 --log-level=lib.eal:error"
n=0

expect_error() {  # expect_error PATTERN VAR=VALUE...
  local pattern="$1"; shift
  set +e
  env BYPASS_EAL="$GOOD_EAL" BYPASS_IP=198.18.0.2/24 "$@" timeout 20 "$ECHO" --listen_port=7 \
    >"$TMP/out.log" 2>"$TMP/err.log"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || fail "$*: exit $rc, expected 2 ($(tail -1 "$TMP/err.log"))"
  local last
  last="$(tail -1 "$TMP/err.log")"
  [[ "$last" =~ $pattern ]] || fail "$*: last line '$last' does not match '$pattern'"
  grep -q 'listening on' "$TMP/out.log" && fail "$*: it started anyway"
  pass "$* -> $last"
  n=$((n + 1))
}

expect_error "^tcp_echo: BYPASS_IP: '10.0.0.300/24' is not an IPv4 address/prefix" BYPASS_IP=10.0.0.300/24
expect_error "^tcp_echo: BYPASS_IP: '198.18.0.2' is not an IPv4 address/prefix" BYPASS_IP=198.18.0.2
expect_error "^tcp_echo: BYPASS_IP6: 'fd00::zz/64' is not an IPv6 address/prefix" BYPASS_IP6=fd00::zz/64
expect_error "^tcp_echo: BYPASS_GW: 'gateway' is not an IPv4 address" BYPASS_GW=gateway
expect_error "^tcp_echo: BYPASS_MTU: '20000' is not a number in range \(expected 576..9000\)" BYPASS_MTU=20000
expect_error "^tcp_echo: BYPASS_VLAN: '5000' is not a number in range" BYPASS_VLAN=5000
expect_error "^tcp_echo: BYPASS_DESCRIPTORS: '40000' is not a number in range \(expected 64..32768\)" BYPASS_DESCRIPTORS=40000
expect_error "^tcp_echo: BYPASS_IDLE: 'sometimes' is not an idle mode" BYPASS_IDLE=sometimes
expect_error "^tcp_echo: BYPASS_PORTS: 'zero' is not a list of DPDK port ids" BYPASS_PORTS=zero
expect_error "^tcp_echo: BYPASS_PORTS: DPDK port 7 does not exist \(1 ports: 0 net_ring0\)" BYPASS_PORTS=7
expect_error "^tcp_echo: BYPASS_EAL: EAL init failed with .*: No such device \(a --vdev/-a names a PMD that is unknown" \
  "BYPASS_EAL=--no-huge -m 256 --no-pci --no-shconf --file-prefix=bad$TEST_ID --vdev=net_nosuch0 --log-level=lib.eal:error"
expect_error "^tcp_echo: BYPASS_EAL: not set" BYPASS_EAL=
# A bad flag value: the same rule.
set +e
env BYPASS_EAL="$GOOD_EAL" BYPASS_IP=198.18.0.2/24 timeout 20 "$ECHO" --listen_port=70000 2>"$TMP/err.log" >/dev/null
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "^tcp_echo: --listen_port: '70000' is not a TCP port" "$TMP/err.log" || fail "--listen_port=70000"

# Hugepages asked for (no --no-huge) but none reserved. If this machine has some, they are
# released for the check and restored afterwards.
saved=$(cat /proc/sys/vm/nr_hugepages)
[[ $saved == 0 ]] || echo 0 > /proc/sys/vm/nr_hugepages
expect_error "^tcp_echo: BYPASS_EAL: EAL needs hugepages but none are reserved" \
  "BYPASS_EAL=-m 256 --no-pci --no-shconf --file-prefix=bad$TEST_ID --vdev=net_ring0"
[[ $saved == 0 ]] || echo "$saved" > /proc/sys/vm/nr_hugepages

# A gRPC runtime other than the one the bridge was built against (a stand-in libgrpc whose
# grpc_version_string() says 30.0.0): Enable() refuses with one line, exit 2, both for a
# program that calls it and for an unmodified one under the preload library.
FAKE="$(bin tests/integration/libfake_grpc_version.so)"
version_mismatch() {  # version_mismatch NAME PROGRAM [LD_PRELOAD extra]
  local name="$1" prog="$2" extra="${3:-}"
  set +e
  env BYPASS_EAL="$GOOD_EAL" BYPASS_IP=198.18.0.2/24 LD_PRELOAD="$FAKE${extra:+ $extra}" \
    timeout 20 "$prog" >"$TMP/out.log" 2>"$TMP/err.log"
  local rc=$?
  set -e
  local last
  last="$(grep -v '^EAL\|^TELEMETRY\|^$' "$TMP/err.log" | tail -1)"
  [[ $rc == 2 ]] || fail "$name with gRPC core 30.0.0: exit $rc, expected 2 ($last)"
  [[ "$last" =~ ^$name:\ grpc-bypass:\ gRPC\ version\ mismatch:\ built\ against\ gRPC\ 1\.[0-9.]+\ \(core\ [0-9.]+\)\ but\ the\ process\ runs\ gRPC\ 1\.[0-9.]+\ \(core\ 30\.0\.0\) ]] ||
    fail "$name: last line '$last' does not name the mismatch"
  grep -q 'listening' "$TMP/out.log" "$TMP/err.log" && fail "$name: it started anyway"
  pass "gRPC runtime mismatch ($name) -> $last"
  n=$((n + 1))
}
version_mismatch greeter_server "$(bin examples/greeter/greeter_server)"
version_mismatch "grpc-bypass preload" "$(bin examples/greeter/plain_greeter_server)" \
  "$(bin transport/grpc/libgrpc_bypass_preload.so)"

# gRPC's pollset_alternative experiment: its threads would not wait in the pollset the bridge
# polls from, so Enable() refuses rather than leave them silently not polling.
set +e
env BYPASS_EAL="$GOOD_EAL" BYPASS_IP=198.18.0.2/24 GRPC_EXPERIMENTS=pollset_alternative \
  timeout 20 "$(bin examples/greeter/greeter_server)" >"$TMP/out.log" 2>"$TMP/err.log"
rc=$?
set -e
last="$(grep -v '^EAL\|^TELEMETRY\|^$\|^TAP' "$TMP/err.log" | tail -1)"
[[ $rc == 2 && "$last" =~ ^greeter_server:\ GRPC_EXPERIMENTS=pollset_alternative: ]] ||
  fail "GRPC_EXPERIMENTS=pollset_alternative: exit $rc, last line '$last'"
grep -q 'listening' "$TMP/out.log" && fail "pollset_alternative: it started anyway"
pass "GRPC_EXPERIMENTS=pollset_alternative -> $last"
n=$((n + 1))

echo "$n passed, 0 failed"
