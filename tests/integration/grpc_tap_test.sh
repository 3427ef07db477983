#!/usr/bin/env bash
# End-to-end 1 and 2 of the gRPC-integration issue.
# 1: Debian's python3-grpcio (its own gRPC core, kernel sockets) calls our
# greeter_server, which runs over the bypass (net_tap in a test namespace): unary, a 4 MiB
# message, 100 concurrent RPCs, deadline exceeded. No kernel socket may listen on the port,
# and the server's DPDK counters must have grown, seen live with bypass_stat and at exit.
# Then allkinds_server: server, client and bidi streaming, cancellation mid-stream.
# 2: our greeter_client over the bypass calls a python3-grpcio server on the kernel side.
# 4: TLS: gRPC SSL credentials (a certificate the test generates) over the bypass, python client.
# 5: preload: plain_greeter_server (nothing of ours linked in) serves the python client over
#    the bypass with LD_PRELOAD=libgrpc_bypass_preload.so.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/greeter/greeter_server)"
PYG="$(dirname "$0")/py_greeter.py"
serve_on_tap grpc bpg0 20 "$SERVER" --port=50051
grep -q 'listening on \[::\]:50051 (bypass)' "$TMP/server.log" || fail "not on [::]:50051"
n=0
py() { ip netns exec "$NS" timeout 60 "$PY" "$PYG" 198.18.0.2:50051 "$@"; }
[[ "$(py unary python)" == "Hello python" ]] || fail "unary"; pass "unary: Hello python"; n=$((n+1))
py big $((4 << 20)) || fail "4 MiB"; pass "4 MiB request and reply"; n=$((n+1))
py concurrent 100 || fail "100 concurrent"; pass "100 concurrent RPCs"; n=$((n+1))
py deadline || fail "deadline"; pass "deadline exceeded mid-transfer, next call answered"; n=$((n+1))
if ip netns exec "$NS" ss -ltnH | grep -q ':50051 '; then fail "a kernel socket listens on 50051"; fi
pass "no kernel socket listens on 50051"; n=$((n+1))
# Live stats: bypass_stat reads the file the server publishes in /dev/shm.
STAT="$(bin tools/stat/bypass_stat)"
"$STAT" | grep -qx "/dev/shm/grpc-bypass-$SPID.stats" || fail "bypass_stat does not list the server"
statv() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
# The file is rewritten every second: wait for a snapshot taken after the calls above.
for _ in $(seq 40); do
  "$STAT" "$SPID" >"$TMP/stat1.txt" || fail "bypass_stat $SPID"
  acc1=$(statv grpc.bypass_accepts "$TMP/stat1.txt")
  rx1=$(statv port0.rx_packets "$TMP/stat1.txt")
  [[ ${acc1:-0} -ge 3 && ${rx1:-0} -gt 1000 ]] && break
  sleep 0.1
done
[[ ${acc1:-0} -ge 3 && ${rx1:-0} -gt 1000 ]] ||
  fail "live stats: accepts=$acc1 rx=$rx1: $(head -c 600 "$TMP/stat1.txt")"
py concurrent 100 >/dev/null || fail "100 concurrent (2)"
"$STAT" --watch=0.5 --count=3 --match=port0.rx "$SPID" >"$TMP/watch.txt" || fail "bypass_stat --watch"
sleep 1.2  # one more publication interval
"$STAT" "$SPID" >"$TMP/stat2.txt" || fail "bypass_stat $SPID (2)"
rx2=$(statv port0.rx_packets "$TMP/stat2.txt")
[[ $rx2 -gt $rx1 ]] || fail "live stats did not grow: $rx1 -> $rx2"
pass "bypass_stat: live counters of the running server (rx $rx1 -> $rx2 frames, $acc1 accepts)"; n=$((n+1))
kill -TERM "$SPID"; wait "$SPID" || fail "greeter_server exited non-zero"
[[ ! -e "/dev/shm/grpc-bypass-$SPID.stats" ]] || fail "the stats file outlived the server"
summary="$(grep '^grpc-bypass: dpdk rx' "$TMP/server.log")" || fail "no exit summary"
rx=$(echo "$summary" | sed -E 's/.*dpdk rx ([0-9]+) pkts.*/\1/')
acc=$(echo "$summary" | sed -E 's/.* accepts ([0-9]+) .*/\1/')
[[ $rx -gt 1000 && $acc -ge 4 ]] || fail "DPDK counters did not grow as expected: $summary"
pass "server counters: $rx frames received through DPDK, $acc connections accepted by the bypass"; n=$((n+1))

# ---- 1b: the streaming kinds against allkinds_server ---------------------------------------
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "ak$TEST_ID" 0 net_tap0,iface=bpa0)" \
  BYPASS_IP=198.18.5.2/24 BYPASS_IDLE=backoff "$(bin examples/allkinds/allkinds_server)" --port=50055 \
  >"$TMP/allkinds.log" 2>&1 &
APID=$!
PIDS+=("$APID")
wait_for_line "$TMP/allkinds.log" 'listening on .*\(bypass\)' 20
ip -n "$NS" addr add 198.18.5.1/24 dev bpa0
ip -n "$NS" link set bpa0 up
pya() { ip netns exec "$NS" timeout 90 "$PY" "$(dirname "$0")/py_allkinds.py" 198.18.5.2:50055 "$@"; }
for args in "server_stream 200 16384" "client_stream 200 16384" "bidi 500 1024" "cancel"; do
  # shellcheck disable=SC2086
  out="$(pya $args)" || fail "python allkinds $args"
  echo "  $out"
done
kill -TERM "$APID"; wait "$APID" || fail "allkinds_server exited non-zero"
grep -qE 'allkinds_server: [1-9][0-9]* streams cancelled' "$TMP/allkinds.log" ||
  fail "the server did not see the cancellation: $(grep cancelled "$TMP/allkinds.log")"
pass "python client, allkinds over the bypass: server/client/bidi streaming, cancellation seen by the server"; n=$((n+1))

# ---- 2: our client over the bypass -> python server on the kernel side ------------------
# The kernel's address lives on a veth interface in the namespace; the client's tap reaches
# it through the kernel's routing (BYPASS_GW).
ip -n "$NS" link add bpd0 type veth peer name bpd1
ip -n "$NS" link set bpd1 up
ip -n "$NS" addr add 198.18.2.1/24 dev bpd0
ip -n "$NS" link set bpd0 up
ip netns exec "$NS" "$PY" "$(dirname "$0")/py_greeter_server.py" 198.18.2.1:50061 >"$TMP/pyserver.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/pyserver.log" '^serving' 20
greeter_client_via_kernel_route bpg1 198.18.2.1:50061 50
pass "our client over the bypass -> python grpcio server on the kernel: 50 calls"; n=$((n+1))

# ---- 4: TLS over the bypass ------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
  -subj "/CN=bypass.test" -addext "subjectAltName=DNS:bypass.test" 2>/dev/null || fail "openssl"
ip netns exec "$NS" env BYPASS_EAL="$(eal_args "tls$TEST_ID" 0 net_tap0,iface=bpt4)" \
  BYPASS_IP=198.18.4.2/24 BYPASS_IDLE=backoff "$SERVER" --port=50443 \
  --tls_cert="$TMP/cert.pem" --tls_key="$TMP/key.pem" >"$TMP/tls_server.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/tls_server.log" 'listening on \[::\]:50443 \(bypass\) with TLS' 20
ip -n "$NS" addr add 198.18.4.1/24 dev bpt4
ip -n "$NS" link set bpt4 up
[[ "$(ip netns exec "$NS" env PY_GREETER_CA="$TMP/cert.pem" timeout 60 "$PY" "$PYG" 198.18.4.2:50443 unary tls)" == "Hello tls" ]] ||
  fail "TLS call"
ip netns exec "$NS" env PY_GREETER_CA="$TMP/cert.pem" timeout 60 "$PY" "$PYG" 198.18.4.2:50443 big $((1 << 20)) ||
  fail "TLS 1 MiB"
# Without TLS the same server must refuse the call.
if ip netns exec "$NS" timeout 30 "$PY" "$PYG" 198.18.4.2:50443 unary plain >/dev/null 2>&1; then
  fail "a plaintext call to the TLS server succeeded"
fi
pass "TLS over the bypass: python client with the test's CA, unary and 1 MiB; plaintext refused"; n=$((n+1))

# ---- 5: preload into an unmodified binary --------------------------------------------------
PLAIN="$(bin examples/greeter/plain_greeter_server)"
PRELOAD="$(bin transport/grpc/libgrpc_bypass_preload.so)"
if ldd "$PLAIN" | grep -qE 'rte_|dpdk|bypass'; then fail "plain_greeter_server links grpc-bypass"; fi
ip netns exec "$NS" env LD_PRELOAD="$PRELOAD" BYPASS_EAL="$(eal_args "pl$TEST_ID" 0 net_tap0,iface=bpp0)" \
  BYPASS_IP=198.18.3.2/24 BYPASS_IDLE=backoff "$PLAIN" 50071 >"$TMP/plain.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/plain.log" 'plain_greeter_server listening on \[::\]:50071' 20
ip -n "$NS" addr add 198.18.3.1/24 dev bpp0
ip -n "$NS" link set bpp0 up
[[ "$(ip netns exec "$NS" timeout 60 "$PY" "$PYG" 198.18.3.2:50071 unary preload)" == "Hello preload" ]] ||
  fail "preloaded server did not answer"
if ip netns exec "$NS" ss -ltnH | grep -q ':50071 '; then fail "a kernel socket listens on 50071"; fi
pass "LD_PRELOAD: an unmodified gRPC server answers over the bypass, no kernel listener"; n=$((n+1))
echo "$n passed, 0 failed"
