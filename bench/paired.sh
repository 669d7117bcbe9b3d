#!/usr/bin/env bash
# Paired rounds of two builds of tcptriage on the same capture: did a
# refactor or an optimisation change the speed or the memory?
#
#   bench/paired.sh BASE_COMMIT [SIZE] [FORMATS]
#     SIZE     quick (default) or big: the capture bench/run.sh generates
#     FORMATS  space-separated: table json ndjson all modules (default "table json")
#   RUNS=9 rounds by default.
#
# Builds BASE_COMMIT and the work tree in release mode (separate target
# directories under target/paired), then in each round runs, for each
# format, the base and the new binary back to back, alternating which goes
# first, with tcpdump -r F -w /dev/null as the reading floor. Prints, per
# format, the median wall time and peak RSS of each and the median and range
# of the paired ratio new/base. Raw numbers in target/paired/paired-SIZE.tsv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BASE=${1:?usage: bench/paired.sh BASE_COMMIT [quick|big] ["table json ..."]}
SIZE=${2:-quick}
FORMATS=${3:-table json}
RUNS=${RUNS:-9}
W="$ROOT/target/paired"
mkdir -p "$W"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

if [ ! -d "$W/tree-base" ]; then
    git worktree add --detach "$W/tree-base" "$BASE" >/dev/null 2>&1
else
    git -C "$W/tree-base" checkout -q --detach "$BASE"
fi
echo "== building $BASE and the work tree (release)" >&2
(cd "$W/tree-base" && CARGO_TARGET_DIR="$W/target-base" cargo build --release -q)
CARGO_TARGET_DIR="$W/target-new" cargo build --release -q
cp "$W/target-base/release/tcptriage" "$W/tcptriage-base"
cp "$W/target-new/release/tcptriage" "$W/tcptriage-new"

# The capture, as bench/run.sh makes it.
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
if [ ! -x "$OUT/gen" ] || [ "$ROOT/bench/gen.rs" -nt "$OUT/gen" ]; then
    rustc -O --edition 2021 "$ROOT/bench/gen.rs" -o "$OUT/gen"
fi
F="$OUT/$SIZE.pcap"
if [ ! -s "$F" ] || [ "$OUT/gen" -nt "$F" ]; then
    "$OUT/gen" --size "$SIZE" --format pcap --out "$F" >/dev/null 2>&1
fi
cat "$F" >/dev/null

args_of() {
    case $1 in
        table) echo "analyze" ;;
        json) echo "analyze --format json" ;;
        ndjson) echo "analyze --format ndjson" ;;
        all) echo "analyze --all" ;;
        modules) echo "analyze --modules" ;;
        *) echo "unknown format $1" >&2; exit 2 ;;
    esac
}

TSV="$W/paired-$SIZE.tsv"
printf 'round\tformat\twhich\twall_s\tmaxrss_kb\n' >"$TSV"
one() { # round format which cmd...
    local r=$1 fmt=$2 which=$3; shift 3
    local tf t0 t1
    tf=$(mktemp)
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$fmt" "$which" \
        "$(awk -v ns=$((t1 - t0)) 'BEGIN{printf "%.3f", ns/1e9}')" \
        "$(awk -F': ' '/Maximum resident/ {print $2}' "$tf")" >>"$TSV"
    rm -f "$tf"
}
for r in $(seq 1 "$RUNS"); do
    one "$r" tcpdump floor tcpdump -r "$F" -w /dev/null
    for fmt in $FORMATS; do
        # shellcheck disable=SC2046
        if [ $((r % 2)) = 1 ]; then
            one "$r" "$fmt" base "$W/tcptriage-base" $(args_of "$fmt") "$F"
            one "$r" "$fmt" new "$W/tcptriage-new" $(args_of "$fmt") "$F"
        else
            one "$r" "$fmt" new "$W/tcptriage-new" $(args_of "$fmt") "$F"
            one "$r" "$fmt" base "$W/tcptriage-base" $(args_of "$fmt") "$F"
        fi
    done
    echo "   round $r done" >&2
done

python3 - "$TSV" "$BASE" "$SIZE" "$RUNS" <<'EOF'
import csv, statistics, sys
tsv, base, size, runs = sys.argv[1:]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
med = statistics.median
floor = [float(r["wall_s"]) for r in rows if r["format"] == "tcpdump"]
print(f"paired rounds: {runs}, capture {size}, base {base}; tcpdump -r floor median {med(floor):.3f} s\n")
print("| output | base wall (median) | new wall (median) | new/base paired: median (range) | base peak RSS | new peak RSS |")
print("|---|---|---|---|---|---|")
for fmt in dict.fromkeys(r["format"] for r in rows if r["format"] != "tcpdump"):
    by = {}
    for r in rows:
        if r["format"] == fmt:
            by.setdefault(r["round"], {})[r["which"]] = r
    ratios = [float(v["new"]["wall_s"]) / float(v["base"]["wall_s"]) for v in by.values()]
    bw = [float(v["base"]["wall_s"]) for v in by.values()]
    nw = [float(v["new"]["wall_s"]) for v in by.values()]
    br = max(int(v["base"]["maxrss_kb"]) for v in by.values()) / 1024
    nr = max(int(v["new"]["maxrss_kb"]) for v in by.values()) / 1024
    print(f"| {fmt} | {med(bw):.3f} s | {med(nw):.3f} s | {med(ratios):.3f} ({min(ratios):.2f}–{max(ratios):.2f}) | {br:.1f} MiB | {nr:.1f} MiB |")
EOF
