#!/usr/bin/env bash
# Overload from an independent HTTP/2 client: h2load (nghttp2, kernel sockets) opens 256
# connections x 100 streams of unary 64 B gRPC calls (pre-encoded frames) to bench_server
# --api=API (the first argument: callback or sync) over net_tap, inside the test's namespace,
# bounded in count (40 000 calls) and time (120 s). Every call must be answered (h2load's 2xx
# count and the server's count of calls ended OK), and what the overload could pile up must
# stay bounded:
#  - EventEngine::Run closures waiting for an executor thread (engine.executor_queued_max
#    <= 5 000; seen before the fix on gRPC 1.83: 28 700, each a call holding its arena, and
#    1 GiB of RSS);
#  - free mbufs stranded in per-thread mempool caches (mempool_in_caches <= a quarter of the
#    pool; seen before the fix with a sync server, whose thread manager starts and ends
#    hundreds of threads: 17 081 of 18 432, every TX allocation failing, the server stalled);
#  - TX allocation failures: none (tx_nombuf);
#  - the server's RSS above its idle RSS: at most 400 MiB for the callback server, 1 GiB for
#    the sync server. The sync bound is gRPC's own: its sync server grows as far on the kernel
#    path, with the same h2load over loopback (2026-12-08, 2-core AMD EPYC VM, 40 000 calls
#    a round): gRPC 1.51 +648 MiB in one round, gRPC 1.83 +128..+263 MiB after one round,
#    +481 after two and +745 after six, where its callback server grew +18 MiB in one round
#    and +54 in six. Over the bypass a round of the sync server measured +284..+410 MiB (+772
#    on a machine busy with other work), the callback server +148..+247.
. "$(dirname "$0")/lib.sh"
API="${1:?usage: overload_h2load_tap_test.sh callback|sync}"
SERVER="$(bin examples/bench/bench_server)"
STAT="$(bin tools/stat/bypass_stat)"
N=40000
command -v h2load >/dev/null || fail "h2load is not installed (tools/setup installs nghttp2-client)"
serve_on_tap h2ov bph2o 20 BYPASS_STATS_INTERVAL_MS=200 "$SERVER" --port=50071 --api="$API"
statv() { "$STAT" "$SPID" | awk -v k="$1" '$1 == k {print $2}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$SPID/status"; }
for _ in $(seq 50); do ip netns exec "$NS" ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5
base_rss=$(rss)
/usr/bin/python3 -c 'import sys; m = b"\x0a\x40" + b"x" * 64; sys.stdout.buffer.write(b"\x00" + len(m).to_bytes(4, "big") + m)' >"$TMP/req.bin"
max_rss=$base_rss
ip netns exec "$NS" timeout 120 h2load -n "$N" -c 256 -m 100 -t 1 -d "$TMP/req.bin" \
  -H 'content-type: application/grpc' -H 'te: trailers' \
  http://198.18.0.2:50071/bench.Bench/Unary >"$TMP/h2load.log" 2>&1 &
HP=$!
while kill -0 "$HP" 2>/dev/null; do
  r=$(rss); (( r > max_rss )) && max_rss=$r
  sleep 0.2
done
wait "$HP" || fail "h2load failed or ran out of its 120 s: $(grep -E '^(requests|status codes)' "$TMP/h2load.log")"
ok2xx=$(sed -nE 's/^status codes: ([0-9]+) 2xx.*/\1/p' "$TMP/h2load.log")
[[ "$ok2xx" == "$N" ]] || fail "$N calls, $ok2xx answered with 2xx: $(grep -E '^(requests|status codes)' "$TMP/h2load.log")"
sleep 0.5  # the stats file is rewritten every 200 ms
queued_max=$(statv engine.executor_queued_max); in_caches=$(statv port0.mempool_in_caches)
pool=$(statv port0.mempool_size); tx_nombuf=$(statv port0.tx_nombuf)
rescued=$(statv engine.runs_rescued)
# net_tap: every TX frame is a writev (and the receiving kernel's TCP input, on the server's
# core), so the answers one drain of handlers writes to a connection leave together (1.51's
# nexting and sync threads: DrainBatch; 1.83's executor: Stack::Batch): about 0.2 frames a
# call measured, 0.8-0.9 (a frame an answer) without.
tx_frames=$(statv poll.tx_frames); corked=$(statv poll.corked_output)
[[ -n "$tx_frames" && -n "$corked" ]] || fail "the server's stats lack poll.tx_frames / poll.corked_output"
(( corked > 0 )) || fail "no output was corked: the answers of a drain left one frame each ($tx_frames frames for $N calls)"
(( tx_frames * 2 <= N )) || fail "$tx_frames TX frames for $N calls (bound $(( N / 2 ))): answers were not written together"
[[ -n "$queued_max" && -n "$in_caches" && -n "$pool" ]] || fail "the server's stats lack the gauges"
(( queued_max <= 5000 )) || fail "$queued_max EventEngine::Run closures waited for the executor at once (bound 5 000)"
(( in_caches <= pool / 4 )) || fail "$in_caches of $pool free mbufs are held in per-thread caches (bound $(( pool / 4 )))"
(( tx_nombuf == 0 )) || fail "TX found no mbuf $tx_nombuf times"
grow=$(( (max_rss - base_rss) / 1024 ))
rss_bound=$([[ "$API" == sync ]] && echo 1024 || echo 400)
(( grow <= rss_bound )) || fail "the server's RSS grew by $grow MiB under the load (bound $rss_bound MiB for --api=$API; executor queue peak $queued_max, closures rescued $(statv engine.runs_rescued), background passes beside a stuck spinner $(statv poll.spinner_away_passes), Run closures after their callback $(statv engine.runs_after_callback) / on the executor $(statv engine.runs_executor))"
kill -TERM "$SPID"; wait "$SPID" || fail "server exit: $(tail -3 "$TMP/server.log")"
served=$(sed -nE 's/^bench_server: ([0-9]+) unary calls ended with status OK/\1/p' "$TMP/server.log")
[[ "$served" == "$N" ]] || fail "the server ended $served calls with OK, h2load sent $N"
pass "--api=$API, h2load 256 x 100, $N calls: all answered; executor queue peak $queued_max, mbufs in caches $in_caches of $pool, tx_nombuf 0, $tx_frames TX frames ($corked corked outputs), RSS +$grow MiB, closures rescued from a stuck thread $rescued ($(sed -nE 's/^finished in ([^,]+), ([0-9.]+) req\/s.*/\1, \2 req\/s/p' "$TMP/h2load.log"))"
echo "1 passed, 0 failed"
