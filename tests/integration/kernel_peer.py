#!/usr/bin/python3
"""The kernel's TCP stack as the peer of a bypass echo server (runs inside the test netns).

  kernel_peer.py bulk HOST PORT BYTES      send BYTES, check every echoed byte
  kernel_peer.py refused HOST PORT         expect RST (connection refused)
  kernel_peer.py fin HOST PORT             half-close: our FIN, all data back, then its FIN
  kernel_peer.py churn HOST PORT N         N connect/echo/close cycles
Exit 0 when the check holds; 1 with one line on stderr otherwise.
"""
import socket
import sys
import threading
import time


def pattern(n, start=0):
    return bytes((i % 251) for i in range(start, start + n))


def connect(host, port, timeout=10.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            raise RuntimeError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def bulk(host, port, total):
    s = connect(host, port, timeout=30.0)
    block = pattern(251 * 1044)  # pattern repeats every 251 bytes
    err = []

    def sender():
        try:
            sent = 0
            while sent < total:
                n = min(len(block), total - sent)
                s.sendall(block[:n])  # block starts at a multiple of 251: stays in phase
                sent += n
        except Exception as e:  # noqa: BLE001
            err.append(e)

    t = threading.Thread(target=sender)
    t0 = time.monotonic()
    t.start()
    got = 0
    while got < total:
        chunk = s.recv(1 << 20)
        if not chunk:
            raise RuntimeError(f"EOF after {got} of {total} bytes")
        if chunk != pattern(len(chunk), got % 251):
            raise RuntimeError(f"echoed data differs near byte {got}")
        got += len(chunk)
    t.join()
    if err:
        raise err[0]
    dt = time.monotonic() - t0
    s.close()
    print(f"bulk: {total} bytes echoed and verified in {dt:.3f} s ({total / dt / 1e6:.1f} MB/s)")


def refused(host, port):
    try:
        connect(host, port, timeout=5.0)
    except ConnectionRefusedError:
        print("refused: got RST")
        return
    raise RuntimeError("connection to a closed port was accepted")


def fin(host, port):
    s = connect(host, port)
    data = pattern(100000)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)  # our FIN
    back = recv_exact(s, len(data))
    if back != data:
        raise RuntimeError("echo differs")
    if s.recv(1) != b"":  # the server's FIN after it echoed everything
        raise RuntimeError("expected EOF (FIN) from the server")
    s.close()
    print("fin: both directions closed cleanly")


def churn(host, port, n):
    t0 = time.monotonic()
    for i in range(n):
        s = connect(host, port)
        msg = pattern(100, i % 251)
        s.sendall(msg)
        if recv_exact(s, len(msg)) != msg:
            raise RuntimeError(f"echo differs on connection {i}")
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise RuntimeError(f"no FIN on connection {i}")
        s.close()
    print(f"churn: {n} connections in {time.monotonic() - t0:.1f} s")


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        if cmd == "bulk":
            bulk(host, port, int(sys.argv[4]))
        elif cmd == "refused":
            refused(host, port)
        elif cmd == "fin":
            fin(host, port)
        elif cmd == "churn":
            churn(host, port, int(sys.argv[4]))
        else:
            raise RuntimeError(f"unknown command {cmd}")
    except Exception as e:  # noqa: BLE001
        print(f"kernel_peer {cmd}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
