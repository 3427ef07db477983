#!/usr/bin/python3
"""Compares two tools/bench reports (report.json), before and after a change: for each bypass
series, the medians over the rounds of context switches and CPU per RPC (client / server)
and p50, with after/before ratios. Counts first: they do not depend on the machine's luck.
  tools/bench_compare.py BEFORE/report.json AFTER/report.json"""
import json
import statistics
import sys


def series(path):
    rep = json.load(open(path))
    out = {}
    for r in rep["runs"]:
        if r["transport"] != "bypass":
            continue
        rate = r.get("target_rate", 0)
        name = f'{r["workload"]} {r["payload_bytes"]} B x{r.get("outstanding", 1)}'
        if r["workload"] == "unary_open_loop":
            name += " 5000/s" if round(rate) == 5000 else " 80%"
        out.setdefault(name, []).append(r)
    return rep["machine"], out


def med(rs, f):
    return statistics.median([r.get(f, 0) for r in rs])


def ratio(a, b):
    return f"{b / a:.2f}" if a else "-"


def main():
    m_before, before = series(sys.argv[1])
    m_after, after = series(sys.argv[2])
    print(f'machine: {m_after["cpu_model"]}, {m_after["cores"]} cores; gRPC {m_after["grpc_version"]}; '
          f'rounds {len(next(iter(after.values())))}')
    print(f'{"series":34} {"csw/RPC client":>22} {"csw/RPC server":>22} {"CPU ms/RPC client":>24} '
          f'{"CPU ms/RPC server":>24} {"p50 us":>18}')
    fields = [("ctx_switches_per_rpc", 2), ("server_ctx_switches_per_rpc", 2),
              ("cpu_s_per_1k_rpcs", 3), ("server_cpu_s_per_1k_rpcs", 3), ("p50_us", 1)]
    for name in sorted(set(before) & set(after)):
        cells = []
        for f, digits in fields:
            a, b = med(before[name], f), med(after[name], f)
            cells.append(f"{a:.{digits}f} -> {b:.{digits}f} ({ratio(a, b)})")
        print(f"{name:34} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
