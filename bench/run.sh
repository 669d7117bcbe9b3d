#!/usr/bin/env bash
# Benchmark tcptriage against tshark, tcpdump and cat on a synthetic capture.
#   bench/run.sh [quick|big]      (RUNS=3 TSHARK_RUNS=... TIMEOUT=... to override)
# Prints a markdown table and writes bench/out/results-SIZE.{md,tsv}.
set -euo pipefail

SIZE=${1:-quick}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench/out"
RUNS=${RUNS:-3}
if [ "$SIZE" = big ]; then TSHARK_RUNS=${TSHARK_RUNS:-1}; TIMEOUT=${TIMEOUT:-1800}; else TSHARK_RUNS=${TSHARK_RUNS:-$RUNS}; TIMEOUT=${TIMEOUT:-600}; fi
mkdir -p "$OUT"
cd "$ROOT"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

echo "== building tcptriage (release) and the generator" >&2
cargo build --release --quiet
BIN="$ROOT/target/release/tcptriage"
if [ ! -x "$OUT/gen" ] || [ "$ROOT/bench/gen.rs" -nt "$OUT/gen" ]; then
    rustc -O --edition 2021 "$ROOT/bench/gen.rs" -o "$OUT/gen"
fi

PCAP="$OUT/$SIZE.pcap"
PCAPNG="$OUT/$SIZE.pcapng"
for f in "$PCAP" "$PCAPNG"; do
    if [ ! -s "$f" ] || [ ! -s "$f.truth.json" ] || [ "$OUT/gen" -nt "$f" ]; then
        echo "== generating $f" >&2
        /usr/bin/time -f "   generated in %e s" "$OUT/gen" --size "$SIZE" --format "${f##*.}" --out "$f" 2>&1 >/dev/null | tail -1 >&2
    fi
done
PACKETS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$PCAP.truth.json")

TSV="$OUT/results-$SIZE.tsv"
printf 'name\trun\tfile_bytes\tpackets\twall_s\tuser_s\tsys_s\tmaxrss_kb\texit\n' > "$TSV"

warm() { cat "$1" > /dev/null; cat "$1" > /dev/null; }

# run1 NAME ROUND FILE CMD...   one timed run (stdout of CMD goes to /dev/null)
run1() {
    local name=$1 i=$2 file=$3; shift 3
    local bytes; bytes=$(stat -L -c %s "$file")
    local tf; tf=$(mktemp)
    local rc=0 t0 t1
    t0=$(date +%s%N)
    timeout "$TIMEOUT" /usr/bin/time -v -o "$tf" "$@" > /dev/null 2>>"$OUT/stderr-$SIZE.log" || rc=$?
    t1=$(date +%s%N)
    python3 - "$tf" "$name" "$i" "$bytes" "$PACKETS" "$rc" "$(( (t1 - t0) / 1000 ))" >> "$TSV" <<'EOF'
import sys
tf, name, i, nbytes, pkts, rc, wall_us = sys.argv[1:]
v = {}
for line in open(tf):
    k, _, val = line.strip().rpartition(": ")
    v[k] = val
# wall clock measured around timeout+time with date(1): /usr/bin/time only has 10 ms resolution
w = int(wall_us) / 1e6
print("\t".join([name, i, nbytes, pkts, f"{w:.3f}", v.get("User time (seconds)", "0"), v.get("System time (seconds)", "0"),
                 v.get("Maximum resident set size (kbytes)", "0"), rc]))
EOF
    rm -f "$tf"
    echo "   $name run $i: $(tail -1 "$TSV" | cut -f5) s wall, rc=$rc" >&2
}

: > "$OUT/stderr-$SIZE.log"
warm "$PCAP"; warm "$PCAPNG"
# The machines are shared: another tenant's burst can slow a few seconds
# of any run. So the fast commands run in rounds, each command once per
# round, back to back: a burst then hits every command of its round, and
# each round gives a paired ratio (tcptriage / tcpdump of the same round),
# whose median the summary prints beside the ratio of the medians.
echo "== timing: $RUNS rounds on $PCAP and $PCAPNG (tshark: $TSHARK_RUNS runs)" >&2
for i in $(seq 1 "$RUNS"); do
    run1 cat                "$i" "$PCAP"   cat "$PCAP"
    run1 tcpdump            "$i" "$PCAP"   tcpdump -r "$PCAP" -w /dev/null
    run1 tcptriage-table    "$i" "$PCAP"   "$BIN" analyze "$PCAP"
    run1 tcptriage-json     "$i" "$PCAP"   "$BIN" analyze --format json "$PCAP"
    run1 cat-ng             "$i" "$PCAPNG" cat "$PCAPNG"
    run1 tcpdump-ng         "$i" "$PCAPNG" tcpdump -r "$PCAPNG" -w /dev/null
    run1 tcptriage-table-ng "$i" "$PCAPNG" "$BIN" analyze "$PCAPNG"
    run1 tcptriage-json-ng  "$i" "$PCAPNG" "$BIN" analyze --format json "$PCAPNG"
done
warm "$PCAP"
for i in $(seq 1 "$TSHARK_RUNS"); do
    run1 tshark-conv "$i" "$PCAP" tshark -n -q -r "$PCAP" -z conv,tcp
done

echo "== verdict counts" >&2
"$BIN" analyze --format json "$PCAP" > "$OUT/$SIZE.pcap.json"
"$BIN" analyze --format json "$PCAPNG" > "$OUT/$SIZE.pcapng.json"

python3 - "$TSV" "$PCAP" "$OUT/$SIZE.pcap.json" "$OUT/$SIZE.pcapng.json" <<'EOF' | tee "$OUT/results-$SIZE.md"
import csv, json, statistics, sys
tsv, pcap, json_pcap, json_ng = sys.argv[1:]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault(r["name"], []).append(r)
def med(name, key):
    return max(statistics.median(float(r[key]) for r in by[name]), 1e-6)
def cpu(name):
    return max(statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in by[name]), 1e-6)
pk = int(rows[0]["packets"])
print(f"File `{pcap}`: {pk:,} packets, {int(by['cat'][0]['file_bytes'])/1e6:.1f} MB (pcapng {int(by['cat-ng'][0]['file_bytes'])/1e6:.1f} MB)\n")
print("| command | runs | median wall s | median CPU s (user+sys) | peak RSS MiB (max) | Mpkt/s | MB/s | wall / tshark | wall / tcpdump (same format) | exit codes |")
print("|---|---|---|---|---|---|---|---|---|---|")
tshark = med("tshark-conv", "wall_s")
for name in by:
    w = med(name, "wall_s"); c = cpu(name)
    rss = max(int(r["maxrss_kb"]) for r in by[name]) / 1024
    nbytes = int(by[name][0]["file_bytes"])
    floor = med("tcpdump-ng" if name.endswith("-ng") else "tcpdump", "wall_s")
    codes = ",".join(sorted({r["exit"] for r in by[name]}))
    print(f"| {name} | {len(by[name])} | {w:.2f} | {c:.2f} | {rss:.1f} | {pk/w/1e6:.2f} | {nbytes/w/1e6:.0f} | {w/tshark:.3f} | {w/floor:.2f} | {codes} |")
print()
def paired(a, b):
    """Median over the rounds of a's wall / b's wall in the same round."""
    wa = {r["run"]: float(r["wall_s"]) for r in by[a]}
    wb = {r["run"]: float(r["wall_s"]) for r in by[b]}
    rs = [wa[k] / max(wb[k], 1e-6) for k in wa if k in wb]
    return statistics.median(rs), min(rs), max(rs), len(rs)
print("Paired by round (each command once per round, back to back; median of the rounds' ratios, range):\n")
for a, b in [("tcptriage-table", "tcpdump"), ("tcptriage-table-ng", "tcpdump-ng"),
             ("tcptriage-json", "tcpdump"), ("tcptriage-table-ng", "tcptriage-table"),
             ("tcptriage-json-ng", "tcptriage-json"), ("tcpdump", "cat"), ("tcptriage-table", "cat")]:
    m, lo, hi, n = paired(a, b)
    print(f"- {a} / {b}: **{m:.2f}** ({lo:.2f}–{hi:.2f}, {n} rounds)")
print()
for a, b in [("tcptriage-json-ng", "tcptriage-json"), ("tcptriage-table-ng", "tcptriage-table")]:
    print(f"- {a} / {b}: wall {med(a,'wall_s')/med(b,'wall_s'):.3f}, CPU {cpu(a)/cpu(b):.3f}")
print(f"- tcptriage-json / tcpdump (pcap): wall {med('tcptriage-json','wall_s')/med('tcpdump','wall_s'):.2f}, CPU {cpu('tcptriage-json')/cpu('tcpdump'):.2f}")
print(f"- tcptriage-json / tshark-conv: wall {med('tcptriage-json','wall_s')/tshark:.3f}, CPU {cpu('tcptriage-json')/cpu('tshark-conv'):.3f}")
truth = json.load(open(pcap + ".truth.json"))["verdicts"]
truth_ng = json.load(open(pcap + "ng.truth.json"))["verdicts"]
assert truth == truth_ng, "pcap and pcapng were generated with different content"
print("\n| verdict | generator (ground truth) | tcptriage pcap | tcptriage pcapng |")
print("|---|---|---|---|")
got = json.load(open(json_pcap))["summary"]["verdicts"]
got_ng = json.load(open(json_ng))["summary"]["verdicts"]
ok = True
for k in truth:
    ok &= truth[k] == got.get(k) == got_ng.get(k)
    print(f"| {k} | {truth[k]} | {got.get(k)} | {got_ng.get(k)} |")
print(f"\nverdict counts match the ground truth: {'yes' if ok else 'NO'}")
EOF
