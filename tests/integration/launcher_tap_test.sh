#!/usr/bin/env bash
# The launcher (tools/launcher, `grpc-bypass`): an unmodified gRPC server (plain_greeter_server,
# nothing of ours linked in) over the bypass on net_tap, called by python grpcio from the
# kernel side; configuration from a file plus --ip; bad configuration rejected with one line and
# exit 2 before the program runs; --dry-run prints the command.
. "$(dirname "$0")/lib.sh"
L="$(bin tools/launcher/grpc-bypass)"
PLAIN="$(bin examples/greeter/plain_greeter_server)"
PYG="$(dirname "$0")/py_greeter.py"
n=0

# One line on stderr, exit 2, and the program never started (it would print "listening").
rejects() {  # rejects PATTERN LAUNCHER-ARGS...
  local pattern="$1"; shift
  local rc=0
  "$L" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "grpc-bypass $*: exit $rc, expected 2 ($(cat "$TMP/err"))"
  [[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "grpc-bypass $*: expected one line, got: $(cat "$TMP/err")"
  grep -qE "$pattern" "$TMP/err" || fail "grpc-bypass $*: '$(cat "$TMP/err")' lacks '$pattern'"
  ! grep -q listening "$TMP/out" || fail "grpc-bypass $*: the program ran"
}
rejects "BYPASS_IP: '300.1.2.3/24' is not an IPv4" --ip 300.1.2.3/24 --eal x -- "$PLAIN" 50090
rejects "BYPASS_EAL: not set" --ip 198.18.0.2/24 -- "$PLAIN" 50090
printf 'BYPASS_EAL = x\nBYPASS_IDLE = sometimes\n' >"$TMP/bad_idle.conf"
rejects "BYPASS_IDLE" --config "$TMP/bad_idle.conf" --ip 198.18.0.2/24 "$PLAIN"
printf 'BYPASS_EAL = x\nBYPASS_IPP = 198.18.0.2/24\n' >"$TMP/typo.conf"
rejects "typo.conf:2: 'BYPASS_IPP' is not a grpc-bypass setting" --config "$TMP/typo.conf" "$PLAIN"
printf 'BYPASS_EAL x\n' >"$TMP/noeq.conf"
rejects "noeq.conf:1: expected 'BYPASS_NAME = value'" --config "$TMP/noeq.conf" "$PLAIN"
rejects "cannot read the config file \\(No such file" --config "$TMP/missing.conf" "$PLAIN"
rejects "unknown option '--ipp'" --ipp 1 "$PLAIN"
rejects "does not load libgrpc.so" --ip 198.18.0.2/24 --eal x -- "$PY" -c 'print(1)'
pass "bad configuration, unknown keys and a program without Debian's libgrpc: one line, exit 2"
n=$((n+1))

out="$("$L" --ip 198.18.0.2/24 --eal '--no-huge -m 64' --dry-run "$PLAIN" 50090)"
grep -qE "^LD_PRELOAD=/[^ ]*/libgrpc_bypass_preload\.so BYPASS_EAL='--no-huge -m 64' BYPASS_IP=198\.18\.0\.2/24 .*plain_greeter_server 50090$" <<<"$out" ||
  fail "dry run: $out"
pass "--dry-run: $out"; n=$((n+1))

make_ns launcher
cat >"$TMP/bypass.conf" <<CONF
# grpc-bypass configuration for the greeter
BYPASS_EAL = "$(eal_args "ln$TEST_ID" 0 net_tap0,iface=bpl0)"
BYPASS_IDLE = backoff
BYPASS_STATS_FILE = off
CONF
ip netns exec "$NS" "$L" --config "$TMP/bypass.conf" --ip 198.18.0.2/24 -- "$PLAIN" 50091 \
  >"$TMP/plain.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/plain.log" 'plain_greeter_server listening on \[::\]:50091' 20
ip -n "$NS" addr add 198.18.0.1/24 dev bpl0
ip -n "$NS" link set bpl0 up
[[ "$(ip netns exec "$NS" timeout 60 "$PY" "$PYG" 198.18.0.2:50091 unary launcher)" == "Hello launcher" ]] ||
  fail "the launched server did not answer"
ip netns exec "$NS" timeout 60 "$PY" "$PYG" 198.18.0.2:50091 concurrent 50 || fail "50 concurrent"
if ip netns exec "$NS" ss -ltnH | grep -q ':50091 '; then fail "a kernel socket listens on 50091"; fi
pass "grpc-bypass --config FILE --ip ... plain_greeter_server: python grpcio's calls answered over the bypass, no kernel listener"
n=$((n+1))
echo "$n passed, 0 failed"
