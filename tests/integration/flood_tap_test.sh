#!/usr/bin/env bash
# Floods against a bypass server over net_tap (bounded in count and time, inside the test's
# namespace): 1. a SYN flood of 50 000 SYNs (hping3) whose SYN-ACKs the kernel side never
# answers (its RSTs are dropped), so every SYN leaves a half-open connection in lwIP;
# 2. a connection flood: 2 000 more half-open plus 1 000 established connections held open.
# During each, a new python grpcio client must still be served; memory must stay under the
# stated bound (server RSS +200 MiB, lwIP TCP pcbs <= the pool of 4 608); afterwards pcbs,
# mbufs and endpoints return to their baseline.
. "$(dirname "$0")/lib.sh"
SERVER="$(bin examples/allkinds/allkinds_server)"
STAT="$(bin tools/stat/bypass_stat)"
PYA="$(dirname "$0")/py_allkinds.py"
serve_on_tap flood bpf0 20 BYPASS_STATS_INTERVAL_MS=200 "$SERVER" --port=50055
statv() { "$STAT" "$SPID" | awk -v k="$1" '$1 == k {print $2}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$SPID/status"; }
served() {  # served LABEL: a new client gets an answer; prints the time it took
  local t0 t1
  t0=$(date +%s%N)
  ip netns exec "$NS" timeout 60 "$PY" "$PYA" 198.18.0.2:50055 unary_many 3 1000 >/dev/null ||
    fail "$1: a new client was not served within 60 s"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
# The kernel side must not reset the half-open connections (the attacker never answers).
ip netns exec "$NS" /usr/sbin/nft -f - <<'NFT'
table inet bpflood {
  chain out {
    type filter hook output priority 0;
    ip daddr 198.18.0.2 tcp flags & (rst) == (rst) counter drop;
  }
}
NFT
sleep 0.5
base_pcb=$(statv lwip.pool.TCP_PCB.used); base_mbuf=$(statv port0.mempool_in_use)
base_ep=$(statv grpc.bypass_endpoints_open); base_rss=$(rss)
n=0

# ---- 1: SYN flood -------------------------------------------------------------------------
ip netns exec "$NS" timeout 120 /usr/sbin/hping3 -q -S -p 50055 -i u20 -c 50000 198.18.0.2 \
  >"$TMP/hping.log" 2>&1 &
HP=$!
sleep 1
ms=$(served "during the SYN flood")
max_pcb=$(statv lwip.pool.TCP_PCB.used)
wait "$HP" || true
rx=$(statv port0.rx_packets)
[[ $rx -gt 40000 ]] || fail "the flood did not arrive: $rx frames received"
max_rss=$(rss)
pass "SYN flood (50 000 SYNs, $rx frames in): a new client served in $ms ms; pcbs $max_pcb, RSS +$(( (max_rss - base_rss) / 1024 )) MiB"; n=$((n+1))

# ---- 2: connection flood ------------------------------------------------------------------
# The SYN flood's half-open connections expire first (one of them may hold the very port a
# new connection picks).
for _ in $(seq 150); do [[ $(statv lwip.pool.TCP_PCB.used) -le $base_pcb ]] && break; sleep 0.2; done
# 1 000 connections established and held first, then 2 000 half-open ones on top (a SYN every
# 1 ms; the new client comes in the middle). The held ones are not evictable: while they were
# being made during the half-open flood, a busy machine could see some lose their SYN_RCVD
# state to eviction before their ACK came (seen: 693 of 1 000 with a compiler running).
ip netns exec "$NS" timeout 120 "$PY" - "$TMP/release" >"$TMP/hold.log" 2>&1 <<'PY' &
import os, socket, sys, time
held = []
for i in range(1000):
    held.append(socket.create_connection(("198.18.0.2", 50055), timeout=30))
print(f"holding {len(held)}", flush=True)
while not os.path.exists(sys.argv[1]):  # the test says when (its RST filter is gone then)
    time.sleep(0.1)
for s in held:
    s.close()
print("closed", flush=True)
PY
EP=$!
for _ in $(seq 300); do grep -q '^holding' "$TMP/hold.log" && break; sleep 0.1; done
grep -q '^holding 1000' "$TMP/hold.log" || fail "1000 connections: $(cat "$TMP/hold.log")"
for _ in $(seq 50); do  # the stats file is rewritten every 200 ms
  held=$(statv lwip.pool.TCP_PCB.used); [[ $held -ge 1000 ]] && break; sleep 0.1
done
[[ $held -ge 1000 ]] || fail "lwIP holds $held of the 1 000 connections"
ip netns exec "$NS" timeout 120 /usr/sbin/hping3 -q -S -p 50055 -i u1000 -c 2000 198.18.0.2 >/dev/null 2>&1 &
HP=$!
sleep 0.5
ms=$(served "during the connection flood")
pcb=$(statv lwip.pool.TCP_PCB.used); mem_rss=$(rss)
wait "$HP" || true
# The held connections, plus at most a full backlog (255) of half-open ones, within the pool.
[[ $pcb -ge 1000 && $pcb -le 4608 ]] || fail "pcbs during the connection flood: $pcb"
(( mem_rss - base_rss < 200 * 1024 )) || fail "RSS grew by $(( (mem_rss - base_rss) / 1024 )) MiB (bound 200 MiB)"
# The kernel may reset connections again (closing a socket with unread data sends a RST).
ip netns exec "$NS" /usr/sbin/nft delete table inet bpflood
touch "$TMP/release"
wait "$EP" || fail "holder: $(cat "$TMP/hold.log")"
pass "1 000 established + 2 000 half-open: a new client served in $ms ms; pcbs $pcb, RSS +$(( (mem_rss - base_rss) / 1024 )) MiB (bound 200)"; n=$((n+1))

# ---- recovery -----------------------------------------------------------------------------
ok=0
for _ in $(seq 150); do  # half-open pcbs time out after the SYN-ACK retries (~8 s)
  sleep 0.2
  pcb=$(statv lwip.pool.TCP_PCB.used); mbuf=$(statv port0.mempool_in_use); ep=$(statv grpc.bypass_endpoints_open)
  if [[ $pcb -le $base_pcb && $mbuf -le $((base_mbuf + 64)) && $ep -le $base_ep ]]; then ok=1; break; fi
done
[[ $ok == 1 ]] || fail "no recovery: pcbs $pcb (was $base_pcb), mbufs $mbuf (was $base_mbuf), endpoints $ep (was $base_ep)"
ms=$(served "after the floods")
pass "recovered: pcbs $pcb, mbufs $mbuf, endpoints $ep back at baseline; a new client served in $ms ms"; n=$((n+1))
kill -TERM "$SPID"; wait "$SPID" || fail "server exit"
echo "$n passed, 0 failed"
