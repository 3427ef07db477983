#!/usr/bin/python3
"""Prints the table and the targets of a tools/bench report (report.json)."""
import json
import sys


def main():
    rep = json.load(open(sys.argv[1]))
    runs = rep["runs"]

    def get(t, w, p, outstanding=None):
        for r in runs:
            if (r["transport"] == t and r["workload"] == w and int(r["payload_bytes"]) == p
                    and (outstanding is None or r.get("outstanding", 0) == outstanding)):
                return r
        return None

    m = rep["machine"]
    print(f"machine: {m['cpu_model']}, {m['cores']} cores, kernel {m['kernel']}, "
          f"gRPC {m['grpc_version']}, DPDK {m['dpdk_version']}")
    print(f"{'workload':<28}{'transport':<9}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}"
          f"{'p99.9 us':>10}{'max us':>10}{'RPC/s':>10}{'MB/s':>9}{'cli CPU':>9}{'srv CPU':>9}")
    for r in runs:
        w = f"{r['workload']} {r['payload_bytes']} B"
        if r.get("outstanding", 0) > 1:
            w += f" x{r['outstanding']}"
        if r.get("target_rate", 0):
            w += f" @{r['target_rate']:.0f}/s"
        print(f"{w:<28}{r['transport']:<9}{r['p50_us']:>9.1f}{r['p90_us']:>9.1f}{r['p99_us']:>9.1f}"
              f"{r['p999_us']:>10.1f}{r['max_us']:>10.1f}{r.get('rpcs_per_s', 0):>10.0f}"
              f"{r.get('mb_per_s', 0):>9.1f}{r.get('cpu_s_per_1k_rpcs', 0):>9.3f}"
              f"{r.get('server_cpu_s_per_1k_rpcs', 0):>9.3f}")
    print("(CPU: seconds per 1000 RPCs of the client and the server process)")
    for i in rep.get("idle", []):
        print(f"idle bypass server, BYPASS_IDLE={i['idle_mode']}: {i['cpu_percent']:.1f} % of a core")

    def verdict(ok):
        return "met" if ok else "MISSED"

    print("targets:")
    k, b, n = get("kernel", "unary", 64, 1), get("bypass", "unary", 64, 1), get("inproc", "unary", 64, 1)
    if k and b and n:
        print(f"  unary 64 B p50: bypass {b['p50_us']:.1f} us < kernel {k['p50_us']:.1f} us: "
              f"{verdict(b['p50_us'] < k['p50_us'])} (ratio {b['p50_us'] / k['p50_us']:.2f})")
        print(f"  unary 64 B p99: bypass {b['p99_us']:.1f} us < kernel {k['p99_us']:.1f} us: "
              f"{verdict(b['p99_us'] < k['p99_us'])} (ratio {b['p99_us'] / k['p99_us']:.2f})")
        dk, db = k["p50_us"] - n["p50_us"], b["p50_us"] - n["p50_us"]
        print(f"  aim: (bypass - inproc) <= 0.25 x (kernel - inproc) at p50: {db:.1f} vs "
              f"{0.25 * dk:.1f} us: {verdict(db <= 0.25 * dk)}")
        print(f"  aim: bypass p99 <= 0.5 x kernel p99: {b['p99_us']:.1f} vs {0.5 * k['p99_us']:.1f} us: "
              f"{verdict(b['p99_us'] <= 0.5 * k['p99_us'])}")
    rk, rb = get("kernel", "raw_echo", 64), get("bypass", "raw_echo", 64)
    if rk and rb:
        print(f"  raw_echo p50: bypass {rb['p50_us']:.1f} us <= 0.3 x kernel {rk['p50_us']:.1f} us: "
              f"{verdict(rb['p50_us'] <= 0.3 * rk['p50_us'])} (ratio {rb['p50_us'] / rk['p50_us']:.2f})")
    tk, tb = get("kernel", "stream_throughput", 1048576), get("bypass", "stream_throughput", 1048576)
    if tk and tb:
        print(f"  streaming 1 MiB: bypass {tb['mb_per_s']:.0f} MB/s >= kernel {tk['mb_per_s']:.0f} MB/s: "
              f"{verdict(tb['mb_per_s'] >= tk['mb_per_s'])}")
    for i in rep.get("idle", []):
        if i["idle_mode"] == "backoff":
            print(f"  idle server with backoff <= 5 % of a core: {i['cpu_percent']:.1f} %: "
                  f"{verdict(i['cpu_percent'] <= 5)}")


if __name__ == "__main__":
    main()
