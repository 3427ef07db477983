#!/usr/bin/python3
"""Writes the seed corpus of the netif fuzzer (tests/fuzz/corpus/) in the harness's input
format: one flags byte, then [2-byte big-endian length][frame]... (frame_harness.h).
Frames are built by hand (struct), so the seeds do not depend on scapy's version.
  make_seeds.py OUT_DIR"""
import os
import struct
import sys

OUR_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
BCAST = b"\xff" * 6
OUR4, PEER4 = bytes([198, 18, 0, 2]), bytes([198, 18, 0, 1])
OUR6 = bytes.fromhex("fd000077000000000000000000000002")
PEER6 = bytes.fromhex("fd000077000000000000000000000001")
FIX, STEER, TIMERS, CHAIN = 1, 2, 4, 8  # frame_harness.h: the flags byte


def eth(dst, typ, payload, src=PEER_MAC):
    return dst + src + struct.pack("!H", typ) + payload


def ipv4(proto, payload, opts=b"", frag=0, src=PEER4, dst=OUR4):
    ihl = 5 + len(opts) // 4
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + len(payload), 1, frag,
                       64, proto, 0, src, dst) + opts + payload


def tcp(sport, dport, seq, ack, flags, opts=b"", data=b""):
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + opts + data


def ipv6(nh, payload, src=PEER6, dst=OUR6):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 255, src, dst) + payload


def frames(flags, *fs):
    return bytes([flags]) + b"".join(struct.pack("!H", len(f)) + f for f in fs)


MSS = b"\x02\x04\x05\xb4"
WS = b"\x01\x03\x03\x07"
SACKP = b"\x04\x02"
TS = b"\x08\x0a" + struct.pack("!II", 1, 0)
SEEDS = {
    "tcp_syn_listener": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41000, 7, 1, 0, 0x02, MSS)))),
    "tcp_syn_all_options": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41001, 7, 1, 0, 0x02, MSS + WS + SACKP + TS + b"\x01\x01\x00\x00")))),
    "tcp_option_past_header": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41002, 7, 1, 0, 0x02, b"\x01\x01\x01\x02")))),
    "tcp_data_established": frames(FIX | STEER, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x18, b"", b"data" * 100)))),
    "tcp_ooseq_established": frames(FIX | STEER, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0x10000000, 0, 0x18, b"", b"x" * 500))),
                                    eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0x20000000, 0, 0x18, b"", b"y" * 500)))),
    "tcp_syn_in_established": frames(FIX | STEER, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0x08000000, 0, 0x18, b"", b"z" * 100))),
                                     eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x02)))),
    "tcp_fin_rst_established": frames(FIX | STEER | TIMERS, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x11))),
                                      eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x04)))),
    "tcp_window_probe_zero": frames(FIX | STEER | TIMERS, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x10)))),
    "ipv4_options": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41003, 7, 1, 0, 0x02), opts=b"\x94\x04\x00\x00"))),
    "ipv4_fragment": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41004, 7, 1, 0, 0x02), frag=0x2000))),
    "ipv4_truncated": frames(0, eth(OUR_MAC, 0x0800, ipv4(6, tcp(41005, 7, 1, 0, 0x02))[:30])),
    "icmp_echo": frames(FIX, eth(OUR_MAC, 0x0800, ipv4(1, struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping" * 8))),
    "arp_request": frames(0, eth(BCAST, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, PEER4, b"\0" * 6, OUR4))),
    "arp_reply_short": frames(0, eth(OUR_MAC, 0x0806, struct.pack("!HHBBH6s", 1, 0x0800, 6, 4, 2, PEER_MAC))),
    "ipv6_tcp_syn": frames(FIX, eth(OUR_MAC, 0x86DD, ipv6(6, tcp(41006, 7, 1, 0, 0x02, MSS)))),
    "ipv6_neighbor_solicitation": frames(FIX, eth(bytes.fromhex("3333ff000002"), 0x86DD, ipv6(58, struct.pack("!BBHI16s", 135, 0, 0, 0, OUR6) + b"\x01\x01" + PEER_MAC, dst=bytes.fromhex("ff0200000000000000000001ff000002")))),
    "ipv6_router_advert": frames(FIX, eth(bytes.fromhex("333300000001"), 0x86DD, ipv6(58, struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + b"\x01\x01" + PEER_MAC + struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 3600, 3600, 0, bytes.fromhex("fd000078000000000000000000000000")), src=bytes.fromhex("fe800000000000000000000000000001"), dst=bytes.fromhex("ff020000000000000000000000000001")))),
    "ipv6_fragment_header": frames(FIX, eth(OUR_MAC, 0x86DD, ipv6(44, struct.pack("!BBHI", 6, 0, 1, 7) + tcp(41007, 7, 1, 0, 0x02)))),
    "ipv4_udp_unreachable_chained": frames(FIX | CHAIN, eth(OUR_MAC, 0x0800, ipv4(17, b"\x9c\x40\x00\x35\x00\x0c\x00\x00" + b"q" * 40))),
    "ipv6_udp_param_problem_chained": frames(FIX | CHAIN, eth(OUR_MAC, 0x86DD, ipv6(17, b"\x9c\x40\x00\x35\x00\x0c\x00\x00" + b"q" * 200))),
    "tcp_data_established_chained": frames(FIX | STEER | CHAIN, eth(OUR_MAC, 0x0800, ipv4(6, tcp(0, 0, 0, 0, 0x18, b"", b"chain" * 200)))),
    "ipv6_echo": frames(FIX, eth(OUR_MAC, 0x86DD, ipv6(58, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping"))),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"make_seeds: {len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
