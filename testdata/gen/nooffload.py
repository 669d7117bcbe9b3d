#!/usr/bin/env python3
"""Turn off checksum/segmentation offloads on interfaces (no ethtool binary here).

Needed because the userspace wire (wire.py) re-sends frames through AF_PACKET:
with tx checksum offload the frames would carry partial checksums, and with
TSO/GSO the captures would show 64 KB super-segments instead of MTU-sized ones.
"""
import array, fcntl, socket, struct, sys

SIOCETHTOOL = 0x8946
CMDS = {"rx": 0x15, "tx": 0x17, "sg": 0x19, "tso": 0x1f, "gso": 0x24, "gro": 0x2c}

def set_feature(sock, ifname, cmd, value):
    buf = array.array("B", struct.pack("II", cmd, value))
    addr, _ = buf.buffer_info()
    ifr = struct.pack("16sP", ifname.encode(), addr)
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifr)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for ifn in sys.argv[1:]:
    for name in ("tso", "gso", "gro", "sg", "tx", "rx"):
        try:
            set_feature(s, ifn, CMDS[name], 0)
        except OSError as e:
            print(f"{ifn}: {name} off failed: {e}", file=sys.stderr)
