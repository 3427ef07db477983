#!/usr/bin/python3
"""Debian's python3-grpcio (its own gRPC core, kernel sockets) calling helloworld.Greeter.

HelloRequest/HelloReply have one string field (1); they are encoded by hand so that no code
generation is needed on this side.
  py_greeter.py TARGET unary NAME            one call, prints the reply
  py_greeter.py TARGET big BYTES             one call with a name of BYTES bytes
  py_greeter.py TARGET concurrent N          N calls in flight at once
  py_greeter.py TARGET deadline              a 4 MiB call with a 2 ms deadline ends
                                             DEADLINE_EXCEEDED mid-transfer; a call after it works
With PY_GREETER_CA=ca.pem the channel uses TLS (server name "bypass.test").
"""
import concurrent.futures
import os
import sys

import grpc


def enc(s: bytes) -> bytes:
    out, n = bytearray(b"\x0a"), len(s)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + s


def dec(b: bytes) -> bytes:
    if not b:
        return b""
    assert b[0] == 0x0A, b[:4]
    n, shift, i = 0, 0, 1
    while True:
        n |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not b[i - 1] & 0x80:
            break
    return b[i:i + n]


def main():
    target, cmd = sys.argv[1], sys.argv[2]
    opts = [("grpc.max_receive_message_length", 16 << 20), ("grpc.max_send_message_length", 16 << 20)]
    ca = os.environ.get("PY_GREETER_CA")
    if ca:
        creds = grpc.ssl_channel_credentials(root_certificates=open(ca, "rb").read())
        opts.append(("grpc.ssl_target_name_override", "bypass.test"))
        ch = grpc.secure_channel(target, creds, options=opts)
    else:
        ch = grpc.insecure_channel(target, options=opts)
    say = ch.unary_unary("/helloworld.Greeter/SayHello", request_serializer=lambda x: x,
                         response_deserializer=lambda x: x)
    if cmd == "unary":
        r = dec(say(enc(sys.argv[3].encode()), timeout=10))
        print(r.decode())
    elif cmd == "big":
        n = int(sys.argv[3])
        name = bytes((i % 26) + 97 for i in range(n))
        r = dec(say(enc(name), timeout=30))
        assert r == b"Hello " + name, f"reply of {len(r)} bytes differs"
        print(f"big: {n} byte request, {len(r)} byte reply, content verified")
    elif cmd == "concurrent":
        n = int(sys.argv[3])
        futs = [say.future(enc(f"c{i}".encode()), timeout=20) for i in range(n)]
        got = [dec(f.result()) for f in futs]
        assert got == [f"Hello c{i}".encode() for i in range(n)], "a reply is wrong"
        print(f"concurrent: {n} calls in flight, all replies right")
    elif cmd == "deadline":
        # gRPC core keeps deadlines in whole milliseconds (Timestamp), rounded up: a "1 us"
        # deadline gives the call up to 1 ms, and a fast transport answers a small call within
        # it. So the call is one no transport can finish in time: 4 MiB each way in 2 ms
        # (4 GB/s). The deadline cuts it while its frames are on the wire; the server must then
        # still answer the next call on the same channel.
        name = bytes((i % 26) + 97 for i in range(4 << 20))
        try:
            say(enc(name), timeout=0.002)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e.code()
        else:
            raise AssertionError("a 4 MiB call with a 2 ms deadline did not fail")
        r = dec(say(enc(b"after"), timeout=10))
        assert r == b"Hello after", r
        print("deadline: DEADLINE_EXCEEDED mid-transfer, the next call answered")

if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print(f"py_greeter {sys.argv[2]}: {e!r}", file=sys.stderr)
        sys.exit(1)
