#!/usr/bin/python3
"""The pictures of a tools/bench run.
  bench_plot.py CDF_TXT OUT_PNG [REPORT_JSON DEPTH_PNG]
OUT_PNG: the latency CDF of every transport, unary 64 B and stream ping-pong, one monotone step
line per transport and round (CDF_TXT: 'transport series payload us fraction [round]' lines).
The y axis is the tail (1 - fraction, log scale) so that p99 and p99.9 are visible.
DEPTH_PNG: RPC/s and p99 against calls in flight (unary 64 B, callback-API client at 1, 8 and
64 in flight, and 16 channels x 4), medians over the rounds of REPORT_JSON, per transport."""
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def cdf_plot(src, out):
    series = {}
    for line in open(src):
        f = line.split()
        t, w, p, us, frac = f[:5]
        rnd = int(f[5]) if len(f) > 5 else 1
        series.setdefault((t, w, int(p), rnd), []).append((float(us), float(frac)))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    colors = {}
    for ax, (workload, payload, title) in zip(
            axes, [("unary", 64, "unary 64 B, one RPC in flight"),
                   ("stream_pingpong", 64, "streaming ping-pong 64 B")]):
        for (t, w, p, rnd), pts in sorted(series.items()):
            if w != workload or p != payload:
                continue
            # One run's points in order of latency; 1 - CDF is 0 at the last point: stop the
            # line at the last slower fraction.
            pts = sorted(pts)
            pts = [(x, 1.0 - f) for x, f in pts if f < 1.0] or [(pts[0][0], 1.0)]
            xs = [x for x, _ in pts]
            ys = [max(y, 1e-6) for _, y in pts]
            color = colors.setdefault(t, f"C{len(colors)}")
            ax.step(xs, ys, where="post", color=color, alpha=0.8,
                    label=t if rnd == 1 else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("latency (us)")
        ax.set_ylabel("fraction of calls slower (1 - CDF)")
        ax.set_title(title + " (a line per round)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"bench_plot: {out}")


def depth_plot(report, out):
    runs = json.load(open(report))["runs"]
    points = {}  # (transport, label) -> depth -> [runs]
    for r in runs:
        if r["workload"] != "unary" or int(r["payload_bytes"]) != 64 or r.get("client_api") != "callback":
            continue
        if (r.get("server_api") or "sync") != "sync":
            continue
        ch = max(1, r.get("channels", 1))
        label = "one channel" if ch == 1 else f"{ch} channels"
        points.setdefault((r["transport"], label), {}).setdefault(r.get("outstanding", 1) or 1, []).append(r)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5))
    for (t, label), by_depth in sorted(points.items()):
        depths = sorted(by_depth)
        rps = [statistics.median(x["rpcs_per_s"] for x in by_depth[d]) for d in depths]
        p99 = [statistics.median(x["p99_us"] for x in by_depth[d]) for d in depths]
        style = "o-" if label == "one channel" else "s--"
        a1.plot(depths, rps, style, label=f"{t}, {label}")
        a2.plot(depths, p99, style, label=f"{t}, {label}")
    for ax, yl in ((a1, "RPC/s"), (a2, "p99 latency (us)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("calls in flight (callback-API client, one thread)")
        ax.set_ylabel(yl)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    a2.set_yscale("log")
    a1.set_title("unary 64 B: throughput against depth")
    a2.set_title("unary 64 B: p99 against depth")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"bench_plot: {out}")


def main():
    cdf_plot(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 4:
        depth_plot(sys.argv[3], sys.argv[4])


if __name__ == "__main__":
    main()
