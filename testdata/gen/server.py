#!/usr/bin/env python3
"""Tiny HTTP-ish test server for make-captures.sh (runs in the tt-server namespace).

Modes (one per listening port):
  ok        read request, send 200 with --body bytes, Connection: close, close (server FIN first)
  slow      like ok but wait --wait seconds before answering
  noanswer  read the request (or TLS ClientHello), never answer; keep the socket open
            until the peer closes or --hold seconds pass
  abort     send headers (Content-Length 200000) and --body bytes of the body, then
            close with SO_LINGER {1,0} -> RST in the middle of the transfer
  bigwrite  small SO_SNDBUF; read the request then write up to 4 MB (blocks when the
            client stops reading -> zero window); gives up after --hold seconds
  stall     send headers (Content-Length 200000) and --body bytes of the body, then send
            nothing more but keep the socket open until the peer closes or --hold s pass
  closenoanswer  read the request, wait --wait s, close (FIN) without sending a byte
Listens on [::]:port dual-stack (IPv4 and IPv6). Bounded by --max-seconds.
"""
import argparse, socket, struct, threading, time

def read_request(c, timeout=10):
    c.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
            if data[:1] == b"\x16":   # TLS ClientHello: no CRLFCRLF will come
                break
    except OSError:
        pass
    return data

def wait_peer_close(c, hold):
    end = time.monotonic() + hold
    while time.monotonic() < end:
        c.settimeout(max(0.05, end - time.monotonic()))
        try:
            if not c.recv(65536):
                return
        except socket.timeout:
            return
        except OSError:
            return

def handle(c, a):
    try:
        req = read_request(c)
        if A.mode in ("ok", "slow"):
            if A.mode == "slow":
                time.sleep(A.wait)
            body = (b"0123456789abcdef" * (A.body // 16 + 1))[:A.body]
            hdr = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            c.sendall(hdr + body)
            c.shutdown(socket.SHUT_WR)
            wait_peer_close(c, 5)
            c.close()
        elif A.mode == "noanswer":
            wait_peer_close(c, A.hold)
            c.close()
        elif A.mode == "abort":
            body = (b"0123456789abcdef" * (A.body // 16 + 1))[:A.body]
            hdr = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Length: 200000\r\nConnection: close\r\n\r\n")
            c.sendall(hdr + body)
            time.sleep(0.3)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        elif A.mode == "bigwrite":
            c.settimeout(A.hold)
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n" + b"x" * 4194304)
            except OSError:
                pass
            c.close()
        elif A.mode == "stall":
            body = (b"0123456789abcdef" * (A.body // 16 + 1))[:A.body]
            hdr = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Length: 200000\r\nConnection: close\r\n\r\n")
            c.sendall(hdr + body)
            wait_peer_close(c, A.hold)
            c.close()
        elif A.mode == "closenoanswer":
            time.sleep(A.wait)
            c.close()
    except OSError:
        try:
            c.close()
        except OSError:
            pass

def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", required=True, choices=["ok", "slow", "noanswer", "abort", "bigwrite", "stall",
                                                          "closenoanswer"])
    ap.add_argument("--body", type=int, default=100000)
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--hold", type=float, default=30.0)
    ap.add_argument("--sndbuf", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=120)
    A = ap.parse_args()
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if A.sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, A.sndbuf)
    s.bind(("::", A.port))
    s.listen(16)
    s.settimeout(0.5)
    end = time.monotonic() + A.max_seconds
    print(f"listening {A.port} {A.mode}", flush=True)
    while time.monotonic() < end:
        try:
            c, a = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(c, a), daemon=True).start()

if __name__ == "__main__":
    main()
