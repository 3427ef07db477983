#!/usr/bin/python3
"""Latency CDF of every transport (tools/bench): unary 64 B for kernel, bypass and inproc.
  bench_plot.py CDF_TXT OUT_PNG      (CDF_TXT: 'transport workload payload us fraction' lines)
The y axis is the tail (1 - fraction, log scale) so that p99 and p99.9 are visible."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, out = sys.argv[1], sys.argv[2]
    series = {}
    for line in open(src):
        t, w, p, us, frac = line.split()
        series.setdefault((t, w, int(p)), []).append((float(us), float(frac)))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (workload, payload, title) in zip(
            axes, [("unary", 64, "unary 64 B, one RPC in flight"),
                   ("stream_pingpong", 64, "streaming ping-pong 64 B")]):
        for (t, w, p), pts in sorted(series.items()):
            if w != workload or p != payload:
                continue
            # 1 - CDF is 0 at the last point: stop the line at the last slower fraction.
            pts = [(x, 1.0 - f) for x, f in pts if f < 1.0] or pts[:1]
            xs = [x for x, _ in pts]
            ys = [max(y, 1e-6) for _, y in pts]
            ax.step(xs, ys, where="post", label=t)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("latency (us)")
        ax.set_ylabel("fraction of calls slower (1 - CDF)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"bench_plot: {out}")


if __name__ == "__main__":
    main()
