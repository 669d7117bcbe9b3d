#!/usr/bin/env bash
# Write tshark-initial-rtt.tsv: for every TCP connection with a completed handshake in every
# capture under testdata/ (and testdata/public/), tshark's tcp.analysis.initial_rtt
# (only streams where a SYN-ACK was seen)
# (first frame of the stream that carries the field). Columns:
#   file  tcp.stream  client(ip:port)  server(ip:port)  initial_rtt_seconds
# "client" = the SYN sender. Run from anywhere: testdata/tshark-facts.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
OUTF=tshark-initial-rtt.tsv
{
  printf '# %s\n' "$(tshark --version 2>/dev/null | head -1)"
  printf 'file\ttcp.stream\tclient\tserver\tinitial_rtt\n'
  for f in *.pcap *.pcapng public/*.pcap public/*.pcapng; do
    [ -e "$f" ] || continue
    # the SYN of each stream gives the client side (the first initial_rtt frame may go either way)
    tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -E separator=/t \
      -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport 2>/dev/null \
      | awk -F'\t' '!seen[$1]++ {c=($2!=""?$2:"["$3"]"); s=($5!=""?$5:"["$6"]"); print $1"\t"c":"$4"\t"s":"$7}' \
      > /tmp/tt-facts-syn.$$
    # streams whose handshake completed (a SYN-ACK was seen); tshark also fills initial_rtt for
    # SYN -> RST/ACK (closed port) and similar, those are left out
    tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1' -T fields -e tcp.stream 2>/dev/null \
      | sort -u > /tmp/tt-facts-synack.$$
    tshark -r "$f" -Y 'tcp.analysis.initial_rtt' -T fields -E separator=/t \
      -e tcp.stream -e tcp.analysis.initial_rtt 2>/dev/null \
      | awk -F'\t' 'BEGIN {while ((getline l < "'/tmp/tt-facts-synack.$$'") > 0) ok[l]=1} ok[$1]' \
      | awk -F'\t' -v f="$f" -v syn=/tmp/tt-facts-syn.$$ '
             BEGIN {while ((getline l < syn) > 0) {split(l, a, "\t"); cli[a[1]]=a[2]; srv[a[1]]=a[3]}}
             !seen[$1]++ {print f"\t"$1"\t"cli[$1]"\t"srv[$1]"\t"$2}'
    rm -f /tmp/tt-facts-syn.$$ /tmp/tt-facts-synack.$$
  done
} > "$OUTF"
echo "wrote $HERE/$OUTF ($(grep -vc '^#' "$OUTF") lines incl. header)"
