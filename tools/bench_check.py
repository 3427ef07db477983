#!/usr/bin/python3
"""Checks that a tools/bench output directory is complete and consistent (not how fast it is:
speed is compared in the report, on one machine, in one run).
  bench_check.py DIR       exit 0 and one line if report.json, report.csv, latency_cdf.png and
                           throughput_depth.png hold
                           every transport x workload with sane percentiles; else one line, 1."""
import csv
import json
import os
import sys


def fail(msg):
    print(f"bench_check: {msg}")
    sys.exit(1)


def main():
    d = sys.argv[1]
    rep = json.load(open(os.path.join(d, "report.json")))
    for key in ("cpu_model", "cores", "pinning", "grpc_version", "dpdk_version"):
        if not rep["machine"].get(key):
            fail(f"machine.{key} is missing")
    runs = rep["runs"]
    want = {(t, w) for t in ("kernel", "bypass", "inproc")
            for w in ("unary", "unary_open_loop", "stream_pingpong", "stream_throughput")}
    want |= {("kernel", "raw_echo"), ("bypass", "raw_echo")}
    have = {(r["transport"], r["workload"]) for r in runs}
    if want - have:
        fail(f"missing runs: {sorted(want - have)}")
    for r in runs:
        p = [r["p50_us"], r["p90_us"], r["p99_us"], r["p999_us"], r["max_us"]]
        if not (0 < p[0] <= p[1] <= p[2] <= p[3] <= p[4] * 1.01):
            fail(f"percentiles out of order in {r['transport']} {r['workload']}: {p}")
        if int(r["count"]) <= 0:
            fail(f"no samples in {r['transport']} {r['workload']}")
    # The API variants (issue 23): the callback and async servers and the callback client, on
    # both transports.
    want_api = {(t, v) for t in ("kernel", "bypass")
                for v in ("callback server", "async server", "callback client")}
    have_api = set()
    for r in runs:
        if r.get("server_api", "sync") != "sync":
            have_api.add((r["transport"], f"{r['server_api']} server"))
        if r.get("client_api", "sync") == "callback" and r["workload"] != "unary_open_loop":
            have_api.add((r["transport"], "callback client"))
    if want_api - have_api:
        fail(f"missing API variants: {sorted(want_api - have_api)}")
    # Load (issue 24): 64 in flight, 16 channels, Poisson arrivals, the generator's lateness.
    for t in ("kernel", "bypass", "inproc"):
        if not any(r["transport"] == t and r.get("channels", 1) == 16 for r in runs):
            fail(f"no 16-channel run for {t}")
        if not any(r["transport"] == t and r.get("idle_channels", 0) == 1000 for r in runs):
            fail(f"no run with 1000 idle channels for {t}")
        if not any(r["transport"] == t and r.get("outstanding") == 64 and r.get("client_api") == "sync"
                   for r in runs):
            fail(f"no run with 64 blocking callers for {t}")
        ol = [r for r in runs if r["transport"] == t and r["workload"] == "unary_open_loop"]
        if not any(r.get("arrival") == "poisson" for r in ol):
            fail(f"no Poisson open loop for {t}")
        if not all(r.get("gen_lateness_p99_us", 0) > 0 for r in ol):
            fail(f"an open-loop run of {t} does not report the generator's lateness")
        if not all(r.get("gen_cpu_s_per_1k_rpcs", 0) > 0 for r in ol):
            fail(f"an open-loop run of {t} does not report the generator's own CPU")
    # h2load (issue 24): both transports, every request answered, the server's RSS read.
    h2 = rep.get("h2load", [])
    if {h["transport"] for h in h2} != {"kernel", "bypass"}:
        fail(f"h2load runs: {sorted({h['transport'] for h in h2})}, want kernel and bypass")
    for h in h2:
        if not (int(h["requests"]) > 0 and int(h["succeeded"]) == int(h["requests"]) == int(h["server_ok"])
                and int(h.get("failed", 0)) == 0 and int(h["server_rss_kib"]) > 0 and h["req_per_s"] > 0
                and h.get("mean_ms", 0) > 0):
            fail(f"h2load {h['transport']}: {h['succeeded']} of {h['requests']} answered, server OK "
                 f"{h['server_ok']}, failed {h.get('failed', 0)}, RSS {h['server_rss_kib']} KiB, mean {h.get('mean_ms', 0)} ms")
    modes = {i["idle_mode"] for i in rep.get("idle", [])}
    if modes != {"poll", "spin"}:
        fail(f"idle CPU measurements: {sorted(modes)}")
    rows = list(csv.DictReader(open(os.path.join(d, "report.csv"))))
    if len(rows) != len(runs):
        fail(f"report.csv has {len(rows)} rows, report.json {len(runs)} runs")
    for name in ("latency_cdf.png", "throughput_depth.png"):
        png = open(os.path.join(d, name), "rb").read()
        if not png.startswith(b"\x89PNG") or len(png) < 10000:
            fail(f"{name} is not a plot")
    png = open(os.path.join(d, "latency_cdf.png"), "rb").read()
    print(f"bench_check: {len(runs)} runs, {len(rows)} CSV rows, {len(h2)} h2load runs, idle {sorted(modes)}, "
          f"CDF plot {len(png)} bytes: complete")


if __name__ == "__main__":
    main()
