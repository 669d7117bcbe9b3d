#!/usr/bin/env bash
# Byte-identical check for refactors and optimisations.
#
#   scripts/compare-outputs.sh BASE_COMMIT [NEW_COMMIT_OR_WORKTREE]
#
# Builds tcptriage (debug profile: the same code, quicker to build) at
# BASE_COMMIT in a throw-away worktree and at the current work tree (or at a
# second commit), runs both over every shipped capture and writes, per
# capture, what a user sees:
#   testdata/ captures (every output):
#     table, --all, --format json, --format ndjson, --modules, --html,
#     --write-failed (the pcapng bytes), both beside --format ndjson, show --failed (Unicode and ASCII,
#     two widths), show --conn for every connection (up to 64), --fail-on-failure
#     exit status, and the stderr of each
#   ../shared/captures/public (every pcap/pcapng, when present):
#     table, --format json, --format ndjson, show --failed --ascii
#   the CLI itself: --help of every command, and errors for bad input.
# then compares the two trees byte by byte and prints the differences.
# Exit status 0: identical; 1: something differs; 2: could not build/run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=${1:?usage: scripts/compare-outputs.sh BASE_COMMIT [NEW_COMMIT]}
new=${2:-}
work=${COMPARE_DIR:-$root/target/compare}
mkdir -p "$work"

build_at() { # commit dir -> path of binary
    local commit=$1 dir=$2
    if [ ! -d "$dir" ]; then
        git worktree add --detach "$dir" "$commit" >/dev/null 2>&1
    else
        git -C "$dir" checkout -q --detach "$commit"
    fi
    # A target directory of its own: two trees building into one can leave
    # the other tree's binary in target/debug.
    (cd "$dir" && CARGO_TARGET_DIR="$work/target-$(basename "$dir")" cargo build -q 2>&1 >/dev/null) >&2
    # The binary's name shows in --help and usage errors: keep it tcptriage.
    mkdir -p "$work/bin-$(basename "$dir")"
    cp "$work/target-$(basename "$dir")/debug/tcptriage" "$work/bin-$(basename "$dir")/tcptriage"
    echo "$work/bin-$(basename "$dir")/tcptriage"
}

base_bin=$(build_at "$base" "$work/tree-base")
if [ -n "$new" ]; then
    new_bin=$(build_at "$new" "$work/tree-new")
else
    CARGO_TARGET_DIR="$work/target-current" cargo build -q >&2
    mkdir -p "$work/bin-current"
    cp "$work/target-current/debug/tcptriage" "$work/bin-current/tcptriage"
    new_bin="$work/bin-current/tcptriage"
fi

run_all() { # binary outdir
    local bin=$1 out=$2
    rm -rf "$out"; mkdir -p "$out"
    export NO_COLOR=1 LC_ALL=C.UTF-8 GOPROXY=
    # A fixed capture path in the output: run from the repository root.
    local f name n i
    for f in testdata/*.pcap testdata/*.pcapng testdata/public/*; do
        [ -f "$f" ] || continue
        name=$(echo "$f" | tr '/' '_')
        { "$bin" analyze "$f" >"$out/$name.table" 2>"$out/$name.table.err"; echo "exit $?" >>"$out/$name.table.err"; } || true
        { "$bin" analyze --all "$f" >"$out/$name.all" 2>&1; echo "exit $?" >>"$out/$name.all"; } || true
        { "$bin" analyze -F json "$f" >"$out/$name.json" 2>&1; echo "exit $?" >>"$out/$name.json"; } || true
        { "$bin" analyze -F ndjson "$f" >"$out/$name.ndjson" 2>&1; echo "exit $?" >>"$out/$name.ndjson"; } || true
        { "$bin" analyze --modules "$f" >"$out/$name.modules" 2>&1; echo "exit $?" >>"$out/$name.modules"; } || true
        { "$bin" analyze --modules --goproxy 'https://goproxy.cn,https://athens.corp/goproxy,direct' "$f" >"$out/$name.modules-gp" 2>&1; echo "exit $?" >>"$out/$name.modules-gp"; } || true
        { "$bin" analyze -q --fail-on-failure --html "$out/$name.html" --write-failed "$out/$name.failed.pcapng" "$f" >"$out/$name.fof" 2>&1; echo "exit $?" >>"$out/$name.fof"; } || true
        { "$bin" analyze -q -F ndjson --html "$out/$name.nd.html" --write-failed "$out/$name.nd.pcapng" "$f" >"$out/$name.nd-side" 2>&1; echo "exit $?" >>"$out/$name.nd-side"; } || true
        { "$bin" show --failed "$f" >"$out/$name.show" 2>&1; echo "exit $?" >>"$out/$name.show"; } || true
        { "$bin" show --failed --ascii --width 100 "$f" >"$out/$name.show-ascii" 2>&1; echo "exit $?" >>"$out/$name.show-ascii"; } || true
        n=$(grep -c '"id"' "$out/$name.ndjson" || true)
        [ "$n" -gt 64 ] && n=64
        for ((i = 0; i < n; i++)); do
            { "$bin" show --conn "$i" --width 120 "$f" >>"$out/$name.show-all" 2>&1; echo "exit $?" >>"$out/$name.show-all"; } || true
        done
    done
    # The public corpus: what other people captured.
    local pub=../shared/captures/public
    if [ -d "$pub" ]; then
        while IFS= read -r f; do
            name=pub_$(echo "${f#"$pub"/}" | tr '/' '_')
            { "$bin" analyze "$f" >"$out/$name.table" 2>&1; echo "exit $?" >>"$out/$name.table"; } || true
            { "$bin" analyze -F json "$f" >"$out/$name.json" 2>&1; echo "exit $?" >>"$out/$name.json"; } || true
            { "$bin" analyze -F ndjson "$f" >"$out/$name.ndjson" 2>&1; echo "exit $?" >>"$out/$name.ndjson"; } || true
            { "$bin" show --failed --ascii --width 100 "$f" >"$out/$name.show" 2>&1; echo "exit $?" >>"$out/$name.show"; } || true
        done < <(find "$pub" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort)
    fi
    # The command line: help texts and errors.
    for c in "" analyze show live interfaces completions man; do
        { "$bin" $c --help >"$out/help-${c:-top}" 2>&1; echo "exit $?" >>"$out/help-${c:-top}"; } || true
    done
    local -a bad=(
        "analyze /nonexistent.pcap"
        "analyze README.md"
        "analyze --stall-after xyz testdata/ok_download.pcap"
        "analyze --max-connections 0 testdata/ok_download.pcap"
        "analyze --format xml testdata/ok_download.pcap"
        "analyze"
        "show testdata/ok_download.pcap"
        "show --conn 999 testdata/ok_download.pcap"
        "show - --failed"
        "analyze --write-failed /tmp/x.pcapng -"
        "analyze testdata/ok_download.pcap /nonexistent.pcap"
        "completions bash"
        "man"
    )
    i=0
    for b in "${bad[@]}"; do
        i=$((i + 1))
        { $bin $b </dev/null >"$out/cli-$i" 2>&1; echo "exit $?" >>"$out/cli-$i"; } || true
    done
    # Standard input.
    { "$bin" analyze -F json - <testdata/all_failures.pcap >"$out/stdin.json" 2>&1; echo "exit $?" >>"$out/stdin.json"; } || true
}

run_all "$base_bin" "$work/out-base"
run_all "$new_bin" "$work/out-new"
# The binary's own path appears in nothing; the html/pcapng paths are the
# output directory's, so normalise that one name.
for d in out-base out-new; do
    grep -rl "$work/$d" "$work/$d" 2>/dev/null | while IFS= read -r f; do
        sed -i "s#$work/$d#OUT#g" "$f"
    done
done
files=$(find "$work/out-base" -type f | wc -l)
if diff -r -q "$work/out-base" "$work/out-new" >/dev/null; then
    echo "identical: $files output files ($(du -sh "$work/out-base" | cut -f1)) of $base and ${new:-the work tree}"
    exit 0
fi
diff -r -q "$work/out-base" "$work/out-new" | head -50
echo "DIFFERENT (first differences above; full trees in $work/out-base and $work/out-new)"
exit 1
