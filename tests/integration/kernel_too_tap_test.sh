#!/usr/bin/env bash
# BYPASS_KERNEL_TOO=1: a server listening on the wildcard [::] is served over the bypass and,
# on the same port, over the kernel. python3-grpcio calls it both ways: over net_tap at the bypass address, and over the namespace's loopback
# (127.0.0.1 and [::1]) through the kernel listener the bridge added with the bypass's port.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/greeter/greeter_server)"
PYG="$(dirname "$0")/py_greeter.py"
port=50057
serve_on_tap ktoo bpk7 20 BYPASS_KERNEL_TOO=1 "$SERVER" --port=$port
ip -n "$NS" link set lo up
py() { ip netns exec "$NS" timeout 60 "$PY" "$PYG" "$1" unary "$2"; }
[[ "$(py "198.18.0.2:$port" bypass)" == "Hello bypass" ]] || fail "over the bypass"
pass "over the bypass: 198.18.0.2:$port"
ip netns exec "$NS" ss -ltnH | grep -qE "(\[::\]|\*|0\.0\.0\.0):$port " ||
  fail "no kernel listener on port $port: $(ip netns exec "$NS" ss -ltnH)"
[[ "$(py "127.0.0.1:$port" kernel4)" == "Hello kernel4" ]] || fail "over the kernel, 127.0.0.1"
[[ "$(py "[::1]:$port" kernel6)" == "Hello kernel6" ]] || fail "over the kernel, [::1]"
pass "over the kernel on the same port: 127.0.0.1:$port and [::1]:$port"
kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"
grep -qE "accepts [1-9]" "$TMP/server.log" || fail "no bypass accept in the summary"
pass "and exits cleanly"
