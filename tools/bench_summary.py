#!/usr/bin/python3
"""Prints the table and the targets of a tools/bench report (report.json).

With several rounds (tools/bench --rounds N) every figure is the median over the rounds, and
the table shows the spread (min..max of p50) beside it."""
import json
import statistics
import sys


def main():
    rep = json.load(open(sys.argv[1]))
    runs = rep["runs"]

    def key(r):
        # Open loop: the fixed 5000/s series, and the series at 80 % of each round's kernel rate.
        rate = 0
        if r["workload"] == "unary_open_loop":
            rate = 5000 if round(r.get("target_rate", 0)) == 5000 else -1
        client_api = r.get("client_api") or "sync"
        if r["workload"] == "unary_open_loop":
            client_api = "sync"  # the open loop is always callback: not a variant of its own
        if r.get("arrival") == "poisson":
            rate = -2  # the Poisson series at 5000/s
        return (r["transport"], r["workload"], int(r["payload_bytes"]), r.get("outstanding", 0), rate,
                r.get("server_api") or "sync", client_api, max(1, r.get("channels", 1)),
                r.get("idle_channels", 0))

    groups = {}
    for r in runs:
        groups.setdefault(key(r), []).append(r)

    def med(rs, field):
        return statistics.median([r.get(field, 0) for r in rs])

    def get(t, w, p, outstanding=None, rate=None, server_api="sync", client_api="sync", channels=1, idle=0):
        """The median run of a series (each field the median over the rounds). rate: low (5000/s
        fixed), high (80 % of the kernel's), poisson (5000/s, Poisson arrivals)."""
        want_rate = {"low": 5000, "high": -1, "poisson": -2}.get(rate)
        for k, rs in groups.items():
            if k[0] == t and k[1] == w and k[2] == p and (outstanding is None or k[3] == outstanding) \
                    and (rate is None or k[4] == want_rate) \
                    and k[5] == server_api and k[6] == client_api and k[7] == channels and k[8] == idle:
                m = {f: med(rs, f) for f in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us",
                                               "rpcs_per_s", "mb_per_s", "cpu_s_per_1k_rpcs",
                                               "server_cpu_s_per_1k_rpcs", "ctx_switches_per_rpc",
                                               "server_ctx_switches_per_rpc", "target_rate",
                                               "gen_lateness_p50_us", "gen_lateness_p99_us",
                                               "gen_ctx_switches_per_rpc", "gen_cpu_s_per_1k_rpcs")}
                m["rounds"] = len(rs)
                m["p50_min"] = min(r["p50_us"] for r in rs)
                m["p50_max"] = max(r["p50_us"] for r in rs)
                return m
        return None

    m = rep["machine"]
    nrounds = max(r.get("round", 1) for r in runs)
    print(f"machine: {m['cpu_model']}, {m['cores']} cores, kernel {m['kernel']}, "
          f"gRPC {m['grpc_version']}, DPDK {m['dpdk_version']}; {nrounds} round(s), medians")
    print(f"{'workload':<60}{'transport':<9}{'p50 us':>8}{' (spread)':<16}{'p99 us':>9}"
          f"{'p99.9 us':>10}{'RPC/s':>9}{'MB/s':>8}{'cli CPU':>8}{'srv CPU':>8}{'cli csw':>8}{'srv csw':>8}")
    for k in groups:
        t, w, p, o, rate, sapi, capi, ch, idle = k
        r = get(t, w, p, o, None if w != "unary_open_loop" else {5000: "low", -1: "high", -2: "poisson"}[rate],
                sapi, capi, ch, idle)
        name = f"{w} {p} B" + (f" x{o}" if o > 1 else "") + (f" on {ch} channels" if ch > 1 else "") + (
            f" +{idle} idle" if idle else "") + (
            f" @{r['target_rate']:.0f}/s" if rate else "") + (" Poisson" if rate == -2 else "") + (
            f" [{sapi} server]" if sapi != "sync" else "") + (
            f" [{capi} client]" if capi != "sync" else "")
        spread = f" ({r['p50_min']:.1f}..{r['p50_max']:.1f})" if r["rounds"] > 1 else ""
        print(f"{name:<60}{t:<9}{r['p50_us']:>8.1f}{spread:<16}{r['p99_us']:>9.1f}{r['p999_us']:>10.1f}"
              f"{r['rpcs_per_s']:>9.0f}{r['mb_per_s']:>8.1f}{r['cpu_s_per_1k_rpcs']:>8.3f}"
              f"{r['server_cpu_s_per_1k_rpcs']:>8.3f}{r['ctx_switches_per_rpc']:>8.2f}"
              f"{r['server_ctx_switches_per_rpc']:>8.2f}")
    print("(CPU: seconds per 1000 RPCs; csw: context switches per RPC, every thread; client and server process)")
    for k in groups:
        if k[1] == "unary_open_loop":
            r = get(k[0], k[1], k[2], k[3], {5000: "low", -1: "high", -2: "poisson"}[k[4]], k[5], k[6], k[7], k[8])
            print(f"open loop {k[0]} @{r['target_rate']:.0f}/s{' Poisson' if k[4] == -2 else ''}: "
                  f"the generator's own lateness p50 {r['gen_lateness_p50_us']:.1f} us, p99 "
                  f"{r['gen_lateness_p99_us']:.1f} us (included in the latency); its own csw "
                  f"{r['gen_ctx_switches_per_rpc']:.2f} and CPU {r['gen_cpu_s_per_1k_rpcs']:.3f} s "
                  f"per 1000 calls (not in the client's)")
    for i in rep.get("idle", []):
        print(f"idle bypass server, BYPASS_IDLE={i['idle_mode']}: {i['cpu_percent']:.1f} % of a core")

    print("targets (issue 13):")

    def line(name, ok, detail):
        print(f"  {name}: {detail}: {'met' if ok else 'MISSED'}")

    k, b = get("kernel", "unary", 64, 1), get("bypass", "unary", 64, 1)
    rk, rb = get("kernel", "raw_echo", 64), get("bypass", "raw_echo", 64)
    if k and b:
        line("unary 64 B p50 <= 0.6 x kernel", b["p50_us"] <= 0.6 * k["p50_us"],
             f"{b['p50_us']:.1f} vs {k['p50_us']:.1f} us (ratio {b['p50_us'] / k['p50_us']:.2f})")
        line("unary 64 B p99 <= 0.5 x kernel", b["p99_us"] <= 0.5 * k["p99_us"],
             f"{b['p99_us']:.1f} vs {k['p99_us']:.1f} us (ratio {b['p99_us'] / k['p99_us']:.2f})")
        if rk and rb:
            ob, ok_ = b["p50_us"] - rb["p50_us"], k["p50_us"] - rk["p50_us"]
            ratio = ob / ok_ if ok_ > 0 else float("inf")
            line("gRPC's overhead over the raw round trip, bypass <= kernel", ratio <= 1.0,
                 f"({b['p50_us']:.1f} - {rb['p50_us']:.1f}) / ({k['p50_us']:.1f} - {rk['p50_us']:.1f}) = {ratio:.2f}")
        line("CPU per 1000 unary 64 B, client <= kernel", b["cpu_s_per_1k_rpcs"] <= k["cpu_s_per_1k_rpcs"],
             f"{b['cpu_s_per_1k_rpcs']:.3f} vs {k['cpu_s_per_1k_rpcs']:.3f} s")
        line("CPU per 1000 unary 64 B, server <= kernel",
             b["server_cpu_s_per_1k_rpcs"] <= k["server_cpu_s_per_1k_rpcs"],
             f"{b['server_cpu_s_per_1k_rpcs']:.3f} vs {k['server_cpu_s_per_1k_rpcs']:.3f} s")
        line("context switches per unary 64 B, client <= kernel",
             b["ctx_switches_per_rpc"] <= k["ctx_switches_per_rpc"],
             f"{b['ctx_switches_per_rpc']:.2f} vs {k['ctx_switches_per_rpc']:.2f}")
        line("context switches per unary 64 B, server <= kernel",
             b["server_ctx_switches_per_rpc"] <= k["server_ctx_switches_per_rpc"],
             f"{b['server_ctx_switches_per_rpc']:.2f} vs {k['server_ctx_switches_per_rpc']:.2f}")
    k8, b8 = get("kernel", "unary", 64, 8), get("bypass", "unary", 64, 8)
    if k8 and b8:
        line("unary 64 B x8 RPC/s >= 1.2 x kernel", b8["rpcs_per_s"] >= 1.2 * k8["rpcs_per_s"],
             f"{b8['rpcs_per_s']:.0f} vs {k8['rpcs_per_s']:.0f} (ratio {b8['rpcs_per_s'] / k8['rpcs_per_s']:.2f})")
        line("unary 64 B x8 p99 <= kernel", b8["p99_us"] <= k8["p99_us"],
             f"{b8['p99_us']:.1f} vs {k8['p99_us']:.1f} us")
    for rate in ("low", "high"):
        ko, bo = get("kernel", "unary_open_loop", 64, None, rate), get("bypass", "unary_open_loop", 64, None, rate)
        if ko and bo:
            want = bo["target_rate"]
            line(f"open loop @{want:.0f}/s: achieved within 1 %", bo["rpcs_per_s"] >= 0.99 * want,
                 f"bypass {bo['rpcs_per_s']:.0f}/s, kernel {ko['rpcs_per_s']:.0f}/s")
            line(f"open loop @{want:.0f}/s: p99 <= kernel", bo["p99_us"] <= ko["p99_us"],
                 f"{bo['p99_us']:.1f} vs {ko['p99_us']:.1f} us")
    ks, bs = get("kernel", "stream_pingpong", 64), get("bypass", "stream_pingpong", 64)
    if ks and bs:
        line("stream ping-pong 64 B p50 <= 0.6 x kernel", bs["p50_us"] <= 0.6 * ks["p50_us"],
             f"{bs['p50_us']:.1f} vs {ks['p50_us']:.1f} us (ratio {bs['p50_us'] / ks['p50_us']:.2f})")
    for p in (16384, 262144):
        kk, bb = get("kernel", "unary", p, 1), get("bypass", "unary", p, 1)
        if kk and bb:
            line(f"unary {p // 1024} KiB p50 <= kernel", bb["p50_us"] <= kk["p50_us"],
                 f"{bb['p50_us']:.1f} vs {kk['p50_us']:.1f} us")
    tk, tb = get("kernel", "stream_throughput", 1048576), get("bypass", "stream_throughput", 1048576)
    if tk and tb:
        line("streaming 1 MiB MB/s >= kernel", tb["mb_per_s"] >= tk["mb_per_s"],
             f"{tb['mb_per_s']:.0f} vs {tk['mb_per_s']:.0f} MB/s")
    print("targets (issue 23, run to completion):")
    if k and b:
        line("unary 64 B p50 <= 0.3 x kernel", b["p50_us"] <= 0.3 * k["p50_us"],
             f"ratio {b['p50_us'] / k['p50_us']:.2f}")
        line("unary 64 B context switches per RPC <= 0.2, each process",
             max(b["ctx_switches_per_rpc"], b["server_ctx_switches_per_rpc"]) <= 0.2,
             f"client {b['ctx_switches_per_rpc']:.3f}, server {b['server_ctx_switches_per_rpc']:.3f}")
    for sapi, capi in (("callback", "sync"), ("async", "sync"), ("sync", "callback")):
        kv, bv = get("kernel", "unary", 64, 1, None, sapi, capi), get("bypass", "unary", 64, 1, None, sapi, capi)
        if kv and bv:
            name = f"{sapi} server" if sapi != "sync" else f"{capi} client"
            line(f"unary 64 B, {name}: p50 <= 0.4 x kernel", bv["p50_us"] <= 0.4 * kv["p50_us"],
                 f"{bv['p50_us']:.1f} vs {kv['p50_us']:.1f} us (ratio {bv['p50_us'] / kv['p50_us']:.2f})")
            line(f"unary 64 B, {name}: context switches per RPC <= 0.5, each process",
                 max(bv["ctx_switches_per_rpc"], bv["server_ctx_switches_per_rpc"]) <= 0.5,
                 f"client {bv['ctx_switches_per_rpc']:.3f}, server {bv['server_ctx_switches_per_rpc']:.3f}")
    if ks and bs:
        line("stream ping-pong 64 B p50 <= 0.3 x kernel", bs["p50_us"] <= 0.3 * ks["p50_us"],
             f"ratio {bs['p50_us'] / ks['p50_us']:.2f}")
    print("targets (issue 24, load):")
    b1 = get("bypass", "unary", 64, 1, None, "sync", "callback")
    for depth, ch in ((8, 1), (64, 1), (64, 16)):
        kd = get("kernel", "unary", 64, depth, None, "sync", "callback", ch)
        bd = get("bypass", "unary", 64, depth, None, "sync", "callback", ch)
        if not (kd and bd and b1):
            continue
        name = f"callback client x{depth}" + (f" on {ch} channels" if ch > 1 else "")
        line(f"{name}: RPC/s >= its own x1 and >= 2 x kernel",
             bd["rpcs_per_s"] >= b1["rpcs_per_s"] and bd["rpcs_per_s"] >= 2 * kd["rpcs_per_s"],
             f"{bd['rpcs_per_s']:.0f} vs x1 {b1['rpcs_per_s']:.0f}, kernel {kd['rpcs_per_s']:.0f} "
             f"(ratio {bd['rpcs_per_s'] / kd['rpcs_per_s']:.2f})")
        line(f"{name}: p99 <= kernel", bd["p99_us"] <= kd["p99_us"],
             f"{bd['p99_us']:.1f} vs {kd['p99_us']:.1f} us")
        line(f"{name}: context switches per RPC <= 0.5, each process",
             max(bd["ctx_switches_per_rpc"], bd["server_ctx_switches_per_rpc"]) <= 0.5,
             f"client {bd['ctx_switches_per_rpc']:.2f}, server {bd['server_ctx_switches_per_rpc']:.2f}")
    for t in ("kernel", "bypass"):
        busy = get(t, "unary", 64, 64, None, "sync", "callback", 16)
        with_idle = get(t, "unary", 64, 64, None, "sync", "callback", 16, 1000)
        if busy and with_idle:
            line(f"{t}: 16 busy channels beside 1000 idle: p50 within 10 % of 16 alone",
                 with_idle["p50_us"] <= 1.1 * busy["p50_us"],
                 f"{with_idle['p50_us']:.1f} vs {busy['p50_us']:.1f} us, RPC/s {with_idle['rpcs_per_s']:.0f} vs {busy['rpcs_per_s']:.0f}")
    for depth in (8, 64):
        kd, bd = get("kernel", "unary", 64, depth), get("bypass", "unary", 64, depth)
        if kd and bd:
            line(f"{depth} blocking callers: RPC/s >= 1.5 x kernel", bd["rpcs_per_s"] >= 1.5 * kd["rpcs_per_s"],
                 f"{bd['rpcs_per_s']:.0f} vs {kd['rpcs_per_s']:.0f} (ratio {bd['rpcs_per_s'] / kd['rpcs_per_s']:.2f})")
            line(f"{depth} blocking callers: context switches per RPC <= kernel, each process",
                 bd["ctx_switches_per_rpc"] <= kd["ctx_switches_per_rpc"]
                 and bd["server_ctx_switches_per_rpc"] <= kd["server_ctx_switches_per_rpc"],
                 f"{bd['ctx_switches_per_rpc']:.2f} / {bd['server_ctx_switches_per_rpc']:.2f} vs "
                 f"{kd['ctx_switches_per_rpc']:.2f} / {kd['server_ctx_switches_per_rpc']:.2f}")
    for rate in ("low", "high", "poisson"):
        ko, bo = get("kernel", "unary_open_loop", 64, None, rate), get("bypass", "unary_open_loop", 64, None, rate)
        if not (ko and bo and b):
            continue
        name = f"open loop @{bo['target_rate']:.0f}/s" + (" Poisson" if rate == "poisson" else "")
        line(f"{name}: generator lateness p50 <= 5 us", bo["gen_lateness_p50_us"] <= 5,
             f"{bo['gen_lateness_p50_us']:.1f} us (kernel run {ko['gen_lateness_p50_us']:.1f})")
        line(f"{name}: p50 <= 0.3 x kernel and <= 2 x its closed loop",
             bo["p50_us"] <= 0.3 * ko["p50_us"] and bo["p50_us"] <= 2 * b["p50_us"],
             f"{bo['p50_us']:.1f} vs kernel {ko['p50_us']:.1f}, closed loop {b['p50_us']:.1f} us")
        line(f"{name}: p99 <= 0.5 x kernel", bo["p99_us"] <= 0.5 * ko["p99_us"],
             f"{bo['p99_us']:.1f} vs {ko['p99_us']:.1f} us")
    h2 = {}
    for h in rep.get("h2load", []):
        h2.setdefault(h["transport"], []).append(h)

    def med_int(hs, field):  # int64 fields arrive as JSON strings (protobuf's JSON mapping)
        return statistics.median(int(h.get(field, 0)) for h in hs)

    for t, hs in sorted(h2.items()):
        print(f"h2load {t} (via {hs[0]['link']}, {hs[0]['server_api']} server, {hs[0]['connections']} x "
              f"{hs[0]['streams']} streams): {med(hs, 'req_per_s'):.0f} req/s, mean {med(hs, 'mean_ms'):.1f} ms, "
              f"max {med(hs, 'max_ms'):.1f} ms; server CPU {med(hs, 'server_cpu_s_per_1k'):.3f} s per 1000, "
              f"RSS {max(int(h['server_rss_kib']) for h in hs) / 1024:.0f} MiB; h2load's own CPU "
              f"{med(hs, 'h2load_cpu_s_per_1k'):.3f} s per 1000 (not the transport's); link drops "
              f"{med_int(hs, 'link_drops'):.0f}, h2load's retransmissions "
              f"{med_int(hs, 'peer_retrans'):.0f}; {len(hs)} round(s)")
    if "kernel" in h2 and "bypass" in h2:
        hk, hb = h2["kernel"], h2["bypass"]
        every = all(int(h["succeeded"]) == int(h["requests"]) == int(h["server_ok"]) and int(h["failed"]) == 0
                    for h in hk + hb)
        line("h2load: every request answered (2xx, and the server ended each with OK)", every,
             ", ".join(f"{h['transport']} {h['succeeded']}/{h['requests']} (server {h['server_ok']})" for h in hk + hb))
        rk2, rb2 = med(hk, "req_per_s"), med(hb, "req_per_s")
        line("h2load: bypass req/s >= kernel", rb2 >= rk2, f"{rb2:.0f} vs {rk2:.0f} (ratio {rb2 / rk2:.2f})")
    if rk and rb:
        print(f"  (raw echo 64 B p50: bypass {rb['p50_us']:.1f} us, kernel {rk['p50_us']:.1f} us)")
    for i in rep.get("idle", []):
        if i["idle_mode"] == "poll":
            line("idle server, default mode, <= 2 % of a core", i["cpu_percent"] <= 2,
                 f"{i['cpu_percent']:.1f} %")


if __name__ == "__main__":
    main()
