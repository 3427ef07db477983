#!/usr/bin/python3
"""Debian's python3-grpcio (its own gRPC core, kernel sockets) calling allkinds.AllKinds.

Msg {bytes data = 1; int32 count = 2;} is encoded by hand (no code generation here).
  py_allkinds.py TARGET server_stream N BYTES   N replies of BYTES each, content checked
  py_allkinds.py TARGET client_stream N BYTES   N messages up; the reply counts and joins them
  py_allkinds.py TARGET bidi N BYTES            N ping-pongs on one stream, each echo checked
  py_allkinds.py TARGET cancel                  cancels a long server stream after 10 replies;
                                                the call ends CANCELLED and the channel still works
  py_allkinds.py TARGET unary_many N BYTES      N unary calls one after another, every byte checked
  py_allkinds.py TARGET bidi_slow N BYTES MS    N ping-pongs MS apart on one stream (outlives outages)
  py_allkinds.py TARGET stream_gaps N          N replies of 8 bytes; prints the longest time between
                                                two replies (ms), the reply it preceded, and the total
  py_allkinds.py TARGET hold_streams N          opens N endless server streams, prints "open",
                                                and exits 0 when all have ended (any status)
Exits non-zero with one line on any mismatch.
"""
import queue
import sys
import time

import grpc


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def enc(data: bytes = b"", count: int = 0) -> bytes:
    out = b""
    if data:
        out += b"\x0a" + varint(len(data)) + data
    if count:
        out += b"\x10" + varint(count)
    return out


def dec(b: bytes):
    data, count, i = b"", 0, 0
    while i < len(b):
        tag = b[i]
        i += 1
        n, shift = 0, 0
        while True:
            n |= (b[i] & 0x7F) << shift
            shift += 7
            i += 1
            if not b[i - 1] & 0x80:
                break
        if tag == 0x0A:
            data, i = b[i:i + n], i + n
        elif tag == 0x10:
            count = n
        else:
            raise ValueError(f"unexpected tag {tag:#x}")
    return data, count


def payload(n: int, seed: int) -> bytes:
    return bytes((i * 7 + seed) % 251 for i in range(n))


def main():
    target, cmd = sys.argv[1], sys.argv[2]
    opts = [("grpc.max_receive_message_length", 16 << 20), ("grpc.max_send_message_length", 16 << 20)]
    ch = grpc.insecure_channel(target, options=opts)
    ident = dict(request_serializer=lambda x: x, response_deserializer=lambda x: x)
    unary = ch.unary_unary("/allkinds.AllKinds/Unary", **ident)
    sstream = ch.unary_stream("/allkinds.AllKinds/ServerStream", **ident)
    cstream = ch.stream_unary("/allkinds.AllKinds/ClientStream", **ident)
    bidi = ch.stream_stream("/allkinds.AllKinds/Bidi", **ident)
    if cmd == "server_stream":
        n, size = int(sys.argv[3]), int(sys.argv[4])
        want = payload(size, 1)
        got = 0
        for i, r in enumerate(sstream(enc(want, n), timeout=60)):
            data, count = dec(r)
            assert data == want and count == i, f"reply {i} differs"
            got += 1
        assert got == n, f"{got} of {n} replies"
        print(f"server_stream: {n} replies of {size} bytes, content verified")
    elif cmd == "stream_gaps":
        n = int(sys.argv[3])
        start = time.monotonic()
        last, longest, at, got = start, 0.0, -1, 0
        for i, r in enumerate(sstream(enc(b"gapprobe", n), timeout=60)):
            now = time.monotonic()
            data, count = dec(r)
            assert data == b"gapprobe" and count == i, f"reply {i} differs"
            if i > 0 and now - last > longest:
                longest, at = now - last, i
            last, got = now, got + 1
        assert got == n, f"{got} of {n} replies"
        print(f"stream_gaps: {n} replies, longest gap {longest * 1000:.1f} ms, before reply {at}, "
              f"in {(last - start) * 1000:.1f} ms")
    elif cmd == "client_stream":
        n, size = int(sys.argv[3]), int(sys.argv[4])
        parts = [payload(size, i) for i in range(n)]
        data, count = dec(cstream(iter([enc(p) for p in parts]), timeout=60))
        assert count == n, f"server counted {count} of {n}"
        assert data == b"".join(parts), "joined data differs"
        print(f"client_stream: {n} messages of {size} bytes, count and content verified")
    elif cmd == "bidi":
        n, size = int(sys.argv[3]), int(sys.argv[4])
        q = queue.Queue()

        def requests():
            for i in range(n):
                yield enc(payload(size, i), i)
                if not q.get(timeout=30):  # wait for the echo: a real ping-pong
                    return

        it = bidi(requests(), timeout=60)
        for i in range(n):
            data, count = dec(next(it))
            assert data == payload(size, i) and count == i, f"echo {i} differs"
            q.put(True)
        assert next(it, None) is None, "more echoes than messages"
        print(f"bidi: {n} ping-pongs of {size} bytes, each echo verified")
    elif cmd == "cancel":
        call = sstream(enc(b"x" * 1024, 1_000_000_000), timeout=60)
        for _ in range(10):
            next(call)
        t0 = time.monotonic()
        call.cancel()
        try:
            for _ in call:
                pass
            raise AssertionError("the cancelled stream ended normally")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.CANCELLED, e.code()
        dt = time.monotonic() - t0
        assert dt < 5, f"cancellation took {dt:.1f} s"
        data, _ = dec(unary(enc(b"after"), timeout=10))
        assert data == b"after", "the channel failed after the cancellation"
        print(f"cancel: CANCELLED mid-stream in {dt * 1000:.0f} ms, the channel still works")
    elif cmd == "unary_many":
        n, size = int(sys.argv[3]), int(sys.argv[4])
        t0 = time.monotonic()
        for i in range(n):
            want = payload(size, i)
            data, _ = dec(unary(enc(want), timeout=120))
            assert data == want, f"call {i}: reply differs"
        print(f"unary_many: {n} calls of {size} bytes, every byte verified, {time.monotonic() - t0:.1f} s")
    elif cmd == "bidi_slow":
        n, size, ms = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        q = queue.Queue()

        def requests():
            for i in range(n):
                yield enc(payload(size, i), i)
                if not q.get(timeout=60):
                    return
                time.sleep(ms / 1000)

        it = bidi(requests(), timeout=300)
        worst = 0.0
        for i in range(n):
            t = time.monotonic()
            data, count = dec(next(it))
            worst = max(worst, time.monotonic() - t)
            assert data == payload(size, i) and count == i, f"echo {i} differs"
            q.put(True)
        print(f"bidi_slow: {n} ping-pongs verified, slowest echo {worst * 1000:.0f} ms")
    elif cmd == "hold_streams":
        n = int(sys.argv[3])
        calls = [sstream(enc(b"h" * 100, 1_000_000_000), timeout=300) for _ in range(n)]
        for c in calls:
            next(c)
        print("open", flush=True)
        ended = 0
        for c in calls:
            try:
                for _ in c:
                    pass
            except grpc.RpcError:
                pass
            ended += 1
        print(f"hold_streams: all {ended} streams ended")
    else:
        raise ValueError(f"unknown command {cmd}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print(f"py_allkinds {sys.argv[2:]}: {e!r}", file=sys.stderr)
        sys.exit(1)
