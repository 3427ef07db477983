# Helpers for integration tests (bash). Every test creates its own network namespace, puts
# the DPDK net_tap port and the kernel's side of it there, and removes it on exit: no traffic
# leaves the namespace. Addresses are from 198.18.0.0/15 (RFC 2544 benchmarking range) and
# fd00:77::/64, and exist only inside that namespace.
set -euo pipefail

PY=/usr/bin/python3            # Debian's python (python3-grpcio, scapy import here)
RUNFILES="${TEST_SRCDIR:-$PWD}/${TEST_WORKSPACE:-grpc_bypass}"
bin() { echo "$RUNFILES/$1"; }

TEST_ID="$$"
NS=""
PIDS=()
TMP="$(mktemp -d /tmp/bypass-test.XXXXXX)"

cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true; done
  [[ -n "$NS" ]] && ip netns del "$NS" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    for f in "$TMP"/*.log; do [[ -e "$f" ]] && { echo "---- $f"; tail -30 "$f"; }; done
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

make_ns() {  # make_ns NAME
  NS="bp-$1-$TEST_ID"
  ip netns add "$NS"
  ip -n "$NS" link set lo up
}

# EAL arguments for one DPDK process: no hugepages, no PCI, its own file prefix.
eal_args() {  # eal_args PREFIX LCORE VDEV
  echo "--no-huge -m 256 --no-pci --no-shconf --no-telemetry --file-prefix=$1 -l $2 --vdev=$3 --log-level=lib.eal:error --log-level=pmd.net.memif:error --log-level=pmd.net.tap:error"
}

# Starts a bypass server on a net_tap port inside a new namespace (make_ns NAME) and, once it
# listens, gives the kernel side of the tap 198.18.0.1/24 (the server is 198.18.0.2). Sets NS
# and SPID; the server's output goes to $TMP/server.log. Extra VAR=VALUE words before the
# program go into its environment.
serve_on_tap() {  # serve_on_tap NAME IFACE SECONDS [VAR=VALUE...] PROGRAM ARGS...
  local name="$1" iface="$2" secs="$3"; shift 3
  make_ns "$name"
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "$name$TEST_ID" 0 "net_tap0,iface=$iface")" \
    BYPASS_IP=198.18.0.2/24 BYPASS_IDLE=backoff "$@" >"$TMP/server.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  wait_for_line "$TMP/server.log" 'listening on .*\(bypass\)' "$secs"
  ip -n "$NS" addr add 198.18.0.1/24 dev "$iface"
  ip -n "$NS" link set "$iface" up
}

# Waits until FILE contains PATTERN (extended regex), up to SECONDS.
wait_for_line() {  # wait_for_line FILE PATTERN SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "timed out waiting for '$2' in $1: $(tail -3 "$1" 2>/dev/null)"
}

# Last "stats ..." line of a log, as KEY=VALUE words; stat FILE KEY prints one value.
stat_of() {  # stat_of FILE KEY
  grep '^stats ' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Sends SIGUSR1 to PID and waits for a new stats line in FILE.
request_stats() {  # request_stats PID FILE
  local pid="$1" file="$2" before i
  before=$(grep -c '^stats ' "$file" 2>/dev/null || true)
  kill -USR1 "$pid" 2>/dev/null || fail "process $pid is gone"
  for ((i = 0; i < 50; i++)); do
    [[ $(grep -c '^stats ' "$file" 2>/dev/null || true) -gt $before ]] && return 0
    sleep 0.1
  done
  fail "no stats line from pid $pid"
}

# Our greeter_client over the bypass (net_tap IFACE, 198.18.1.2) calls a server on the
# kernel's side of the namespace at TARGET (a veth address the test set up), reached through
# the kernel's routing (BYPASS_GW=198.18.1.1); COUNT calls, each reply checked, and the
# connection must have gone through the bypass.
greeter_client_via_kernel_route() {  # greeter_client_via_kernel_route IFACE TARGET COUNT
  local iface="$1" target="$2" count="$3" cpid
  ip netns exec "$NS" env BYPASS_EAL="$(eal_args "gc$iface$TEST_ID" 1 "net_tap0,iface=$iface")" \
    BYPASS_IP=198.18.1.2/24 BYPASS_GW=198.18.1.1 BYPASS_IDLE=backoff \
    "$(bin examples/greeter/greeter_client)" --target="$target" --name=lwip --count="$count" \
    >"$TMP/client.log" 2>&1 &
  cpid=$!
  PIDS+=("$cpid")
  # the client's tap interface appears once it runs: the kernel routes between the two sides
  for _ in $(seq 50); do ip -n "$NS" link show "$iface" >/dev/null 2>&1 && break; sleep 0.1; done
  ip -n "$NS" addr add 198.18.1.1/24 dev "$iface"
  ip -n "$NS" link set "$iface" up
  ip netns exec "$NS" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  wait "$cpid" || fail "greeter_client: $(tail -2 "$TMP/client.log")"
  grep -q '^Greeter received: Hello lwip' "$TMP/client.log" || fail "client reply: $(cat "$TMP/client.log")"
  grep -qE 'grpc bypass connects [1-9]' "$TMP/client.log" || fail "the client did not connect through the bypass"
}
