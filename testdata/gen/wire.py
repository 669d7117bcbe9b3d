#!/usr/bin/env python3
"""Userspace "wire" between two veth interfaces (runs in the tt-wire namespace).

The kernel of the capture machine has no sch_netem, so the per-direction delay
(and optional loss) that netem would add on the router is done here instead:
every Ethernet frame received on one interface is re-sent on the other one
DELAY ms later.  Optional loss drops TCP *data* segments (payload > 0) flowing
from the router side to the client side with a fixed probability, from a seeded
PRNG (reproducible).  Bounded: exits after --max-seconds.
"""
import argparse, heapq, random, select, socket, struct, sys, time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

def tcp_payload_len(frame):
    if len(frame) < 14:
        return -1
    et = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if et == 0x0800 and len(p) >= 20 and p[9] == 6:
        ihl = (p[0] & 15) * 4
        tot = struct.unpack("!H", p[2:4])[0]
        if len(p) >= ihl + 13:
            doff = (p[ihl + 12] >> 4) * 4
            return tot - ihl - doff
    if et == 0x86DD and len(p) >= 40 and p[6] == 6:
        plen = struct.unpack("!H", p[4:6])[0]
        if len(p) >= 53:
            doff = (p[52] >> 4) * 4
            return plen - doff
    return -1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="client-side interface")
    ap.add_argument("--b", required=True, help="router-side interface")
    ap.add_argument("--delay-ms", type=float, default=5.0)
    ap.add_argument("--loss", type=float, default=0.0, help="drop prob. for b->a TCP data")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    socks = {}
    for name in (args.a, args.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setblocking(False)
        socks[name] = s
    other = {args.a: socks[args.b], args.b: socks[args.a]}
    q = []  # (due, seq, out_sock, frame)
    seq = 0
    delay = args.delay_ms / 1000.0
    end = time.monotonic() + args.max_seconds
    dropped = 0
    print("wire up", flush=True)
    while time.monotonic() < end:
        now = time.monotonic()
        timeout = max(0.0, q[0][0] - now) if q else 0.5
        r, _, _ = select.select(list(socks.values()), [], [], timeout)
        for s in r:
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                src = addr[0]
                if args.loss > 0 and src == args.b and tcp_payload_len(frame) > 0 \
                        and rng.random() < args.loss:
                    dropped += 1
                    continue
                seq += 1
                heapq.heappush(q, (time.monotonic() + delay, seq, other[src], frame))
        now = time.monotonic()
        while q and q[0][0] <= now:
            _, _, out, frame = heapq.heappop(q)
            try:
                out.send(frame)
            except OSError as e:
                print("send error", e, len(frame), file=sys.stderr, flush=True)
    print("wire exit, dropped", dropped, flush=True)

if __name__ == "__main__":
    main()
