#!/usr/bin/env python3
"""Test clients for make-captures.sh (run in the tt-client namespace). All bounded by timeouts.

  noread    SO_RCVBUF small, connect, send a GET, never read; after --hold s close
            (close with unread data -> the kernel sends RST)
  blackhole connect, wait for --flag file (the script inserts the router DROP rule,
            then creates it), send a GET, wait --hold s for an answer, close
  abort     connect, send a GET, read until --read bytes arrived (the server keeps sending),
            then close with SO_LINGER {1,0} -> client RST while data is still in flight
  reuse     bind the fixed source port --sport (SO_REUSEADDR) for each of --ports in turn:
            connect, GET, read to EOF, close; 1 s pause between; before the last one wait
            for --flag (the script stops the server in between)
"""
import argparse, os, socket, struct, sys, time

def req(host):
    return f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tcptriage-testdata\r\n\r\n".encode()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["noread", "blackhole", "reuse", "abort"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--ports", default="8080,8080,8082")
    ap.add_argument("--sport", type=int, default=40000)
    ap.add_argument("--src", default="10.77.1.10")
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--hold", type=float, default=10)
    ap.add_argument("--flag", default="")
    ap.add_argument("--read", type=int, default=16000)
    A = ap.parse_args()
    if A.mode == "noread":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, A.rcvbuf)
        s.settimeout(5)
        s.connect((A.host, A.port))
        s.sendall(req(A.host))
        time.sleep(A.hold)
        s.close()
        print("noread: closed", flush=True)
    elif A.mode == "blackhole":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((A.host, A.port))
        print("connected", s.getsockname(), flush=True)
        end = time.monotonic() + 5
        while A.flag and not os.path.exists(A.flag) and time.monotonic() < end:
            time.sleep(0.05)
        s.sendall(req(A.host))
        s.settimeout(A.hold)
        try:
            d = s.recv(65536)
            print("unexpected answer", len(d), flush=True)
        except socket.timeout:
            print("blackhole: timeout, aborting (RST)", flush=True)
            # give up like an application with a deadline: abortive close -> RST
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    elif A.mode == "abort":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((A.host, A.port))
        s.sendall(req(A.host))
        n = 0
        try:
            while n < A.read:
                d = s.recv(65536)
                if not d:
                    break
                n += len(d)
        except socket.timeout:
            pass
        # give up mid-transfer like a user pressing Ctrl-C: abortive close -> RST
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print(f"abort: read {n} bytes, closed with RST", flush=True)
    elif A.mode == "reuse":
        ports = [int(x) for x in A.ports.split(",")]
        for i, p in enumerate(ports):
            if A.flag and i == len(ports) - 1:
                # before the last connection wait (bounded) until the script stopped the server
                end = time.monotonic() + 5
                while not os.path.exists(A.flag) and time.monotonic() < end:
                    time.sleep(0.05)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((A.src, A.sport))
            s.settimeout(5)
            try:
                s.connect((A.host, p))
                s.sendall(req(A.host))
                n = 0
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    n += len(d)
                print(f"reuse #{i+1} -> {p}: {n} bytes", flush=True)
            except OSError as e:
                print(f"reuse #{i+1} -> {p}: {e}", flush=True)
            s.close()
            time.sleep(1.0)

if __name__ == "__main__":
    main()
