#!/usr/bin/python3
"""Checks bypass_stat's Prometheus output with the official client library's parser
(python3-prometheus-client).

  prom_check.py snapshot STATS_FILE PROM_FILE PID
      every "name value [gauge]" line of STATS_FILE (FormatStats(GetStats()), the file the
      process publishes) is one sample of PROM_FILE with the same value, pid label and type
  prom_check.py live PROM_FILE PID MIN_RX MIN_ACCEPTS
      the traffic counters of a live process moved
  prom_check.py same PROM_FILE URL
      every grpc_bypass sample of PROM_FILE is in node_exporter's /metrics at URL, same value
  prom_check.py get PROM_FILE NAME PID    prints one sample's value
"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fail(msg):
    print("prom_check: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def samples(text):
    """{(sample name, sorted labels): (value, family type)} for grpc_bypass_* samples."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if not s.name.startswith("grpc_bypass_"):
                continue
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in out:
                fail("duplicate sample %s" % (key,))
            out[key] = (s.value, fam.type)
    return out


def expected_key(stat, pid):
    """Our naming rule, written out independently of bypass_stat's code."""
    parts = stat.split(".")
    labels = {"pid": str(pid)}
    if len(parts) == 2 and parts[0].startswith("port") and parts[0][4:].isdigit():
        labels["port"] = parts[0][4:]
        base = "port_" + parts[1]
    elif len(parts) == 4 and parts[:2] == ["lwip", "pool"]:
        labels["pool"] = parts[2]
        base = "lwip_pool_" + parts[3]
    else:
        base = stat.replace(".", "_")
    return "grpc_bypass_" + base, labels


def snapshot(stats_file, prom_file, pid):
    got = samples(open(prom_file).read())
    n = 0
    for line in open(stats_file):
        f = line.split()
        if not f:
            continue
        stat, value, gauge = f[0], int(f[1]), len(f) == 3 and f[2] == "gauge"
        name, labels = expected_key(stat, pid)
        if not gauge:
            name += "_total"
        key = (name, tuple(sorted(labels.items())))
        if key not in got:
            fail("%s: no sample %s{%s}" % (stat, name, labels))
        v, typ = got.pop(key)
        if v != value:
            fail("%s: %s in the stats file, %s in Prometheus' format" % (stat, value, v))
        if typ != ("gauge" if gauge else "counter"):
            fail("%s: type %s" % (stat, typ))
        n += 1
    if got:
        fail("samples that are not in the stats file: %s" % list(got)[:3])
    if n < 50:
        fail("only %d counters" % n)
    gauges = sum(1 for l in open(stats_file) if l.split()[2:] == ["gauge"])
    print("prom_check: %d counters and gauges (%d gauges) parsed, values and types match the "
          "stats file" % (n, gauges))


def value(got, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    if key not in got:
        fail("no sample %s%s" % (name, labels))
    return got[key][0]


def live(prom_file, pid, min_rx, min_accepts):
    got = samples(open(prom_file).read())
    rx = value(got, "grpc_bypass_port_rx_packets_total", pid=pid, port="0")
    acc = value(got, "grpc_bypass_grpc_bypass_accepts_total", pid=pid)
    opened = value(got, "grpc_bypass_engine_endpoints_opened_total", pid=pid)
    if rx < int(min_rx) or acc < int(min_accepts) or opened < 1:
        fail("live counters did not move: rx %s accepts %s endpoints %s" % (rx, acc, opened))
    print("prom_check: live: port 0 rx %d packets, %d accepts" % (rx, acc))


def same(prom_file, url):
    want = samples(open(prom_file).read())
    with urllib.request.urlopen(url, timeout=10) as r:
        got = samples(r.read().decode())
    for key, (v, typ) in want.items():
        if key not in got:
            fail("node_exporter does not serve %s" % (key,))
        if got[key][0] != v or got[key][1] != typ:
            fail("%s: %s %s in the file, %s from node_exporter" % (key, v, typ, got[key]))
    print("prom_check: node_exporter serves all %d grpc_bypass samples with the same values"
          % len(want))


def get(prom_file, name, pid):
    print(int(value(samples(open(prom_file).read()), name, pid=pid)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"snapshot": snapshot, "live": live, "same": same, "get": get}[cmd](*args)
