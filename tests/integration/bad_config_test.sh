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
echo "$n passed, 0 failed"
