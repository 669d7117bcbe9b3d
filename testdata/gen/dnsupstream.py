#!/usr/bin/env python3
"""A broken upstream DNS server for make-captures.sh (runs in tt-server, behind dnsmasq).

Answers every UDP query with a bare header: same id, QR=1, RD/RA copied/set, the question
echoed, no records, and rcode --rcode (default 2 = SERVFAIL). dnsmasq forwards to it with
--server=/domain/ADDR#PORT and relays what it says. Bounded by --max-seconds.
"""
import argparse, socket, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rcode", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=120)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.addr, a.port))
    s.settimeout(0.5)
    print(f"[upstream] listening {a.addr}:{a.port} rcode {a.rcode}", flush=True)
    end = time.monotonic() + a.max_seconds
    while time.monotonic() < end:
        try:
            q, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        if len(q) < 12:
            continue
        flags = 0x8000 | (q[2] << 8 & 0x7900) | 0x0080 | a.rcode   # QR, opcode+RD kept, RA
        qd = int.from_bytes(q[4:6], "big")
        # keep the question section only (first name + type + class), drop EDNS/other records
        i = 12
        if qd:
            while i < len(q) and q[i] != 0:
                i += q[i] + 1
            i += 5
        r = q[:2] + flags.to_bytes(2, "big") + (b"\x00\x01" if qd else b"\x00\x00") + b"\x00" * 6 + q[12:i]
        s.sendto(r, peer)
        print(f"[upstream] {peer} id {q[:2].hex()} -> rcode {a.rcode}", flush=True)


if __name__ == "__main__":
    main()
