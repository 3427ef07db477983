#!/usr/bin/env bash
# Reliability over net_tap (issue: reliability and security), allkinds_server on the bypass,
# Debian's python3-grpcio and kernel sockets in the test's namespace as peers:
# 1. loss: nftables drops 1 %, then 5 %, of the packets at random in both directions on the
#    namespace side of the tap; 500 unary calls of 64 KiB, every byte checked.
# 2. churn: 10 000 kernel TCP connect/close cycles; lwIP's pcbs and segments, the DPDK mempool
#    and the engine's endpoints return to their baseline (read live with bypass_stat).
# 3. link flap: the kernel side of the tap goes down for 2 s during a bidi stream; the stream
#    survives through retransmission and a new connection works afterwards.
# (Shutdown with active streams: shutdown_tap_test, also under ASan.)
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/allkinds/allkinds_server)"
STAT="$(bin tools/stat/bypass_stat)"
PYA="$(dirname "$0")/py_allkinds.py"
serve_on_tap rel bpr0 20 BYPASS_STATS_INTERVAL_MS=200 "$SERVER" --port=50055
pya() { ip netns exec "$NS" timeout "$1" "$PY" "$PYA" 198.18.0.2:50055 "${@:2}"; }
statv() { "$STAT" "$SPID" | awk -v k="$1" '$1 == k {print $2}'; }
n=0

# ---- 1: loss ------------------------------------------------------------------------------
for pct in 1 5; do
  ip netns exec "$NS" /usr/sbin/nft -f - <<NFT
table inet bploss {
  chain in { type filter hook prerouting priority -300; iifname "bpr0" numgen random mod 100 < $pct counter drop; }
  chain out { type filter hook postrouting priority 300; oifname "bpr0" numgen random mod 100 < $pct counter drop; }
}
NFT
  out="$(pya 300 unary_many 500 65536)" || fail "loss $pct %: $(tail -1 "$TMP/server.log")"
  drops=$(ip netns exec "$NS" /usr/sbin/nft list table inet bploss | grep -oE 'packets [0-9]+' | awk '{s += $2} END {print s}')
  ip netns exec "$NS" /usr/sbin/nft delete table inet bploss
  [[ $drops -gt 0 ]] || fail "nftables dropped nothing"
  pass "$pct % loss both ways ($drops packets dropped): $out"; n=$((n+1))
done

# ---- 2: churn -----------------------------------------------------------------------------
sleep 1
base_pcb=$(statv lwip.pool.TCP_PCB.used); base_seg=$(statv lwip.pool.TCP_SEG.used)
base_mbuf=$(statv port0.mempool_in_use); base_ep=$(statv grpc.bypass_endpoints_open)
ip netns exec "$NS" timeout 300 "$PY" - <<'PY' || fail "churn client"
import socket, time
t0 = time.monotonic()
for i in range(10000):
    s = socket.create_connection(("198.18.0.2", 50055), timeout=10)
    s.close()
print(f"churn: 10000 connect/close cycles in {time.monotonic() - t0:.1f} s")
PY
ok=0
for _ in $(seq 100); do  # lwIP finishes the closes (LAST_ACK) within a few RTOs
  sleep 0.3
  pcb=$(statv lwip.pool.TCP_PCB.used); seg=$(statv lwip.pool.TCP_SEG.used)
  mbuf=$(statv port0.mempool_in_use); ep=$(statv grpc.bypass_endpoints_open)
  if [[ $pcb -le $base_pcb && $seg -le $base_seg && $mbuf -le $((base_mbuf + 64)) && $ep -le $base_ep ]]; then ok=1; break; fi
done
[[ $ok == 1 ]] || fail "after churn: pcbs $pcb (was $base_pcb), segs $seg (was $base_seg), mbufs $mbuf (was $base_mbuf), endpoints $ep (was $base_ep)"
acc=$(statv grpc.bypass_accepts)
[[ $acc -ge 10000 ]] || fail "only $acc connections accepted"
pass "churn: 10 000 connect/close; pcbs $pcb, segs $seg, mbufs in use $mbuf, endpoints $ep: back at baseline"; n=$((n+1))

# ---- 3: link flap -------------------------------------------------------------------------
pya 120 bidi_slow 100 1024 30 >"$TMP/flap.out" 2>&1 &
FP=$!
sleep 1
ip -n "$NS" link set bpr0 down
sleep 2
ip -n "$NS" link set bpr0 up
wait "$FP" || fail "the stream did not survive the outage: $(cat "$TMP/flap.out")"
grep -q 'slowest echo [0-9]\{4,\} ms' "$TMP/flap.out" || fail "the outage did not delay the stream: $(cat "$TMP/flap.out")"
pya 30 unary_many 5 1000 >/dev/null || fail "no new connection after the outage"
pass "link down 2 s during a stream: $(cat "$TMP/flap.out"); new calls work"; n=$((n+1))

echo "$n passed, 0 failed"
