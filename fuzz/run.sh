#!/usr/bin/env bash
# Runs the fuzz targets one after the other, one libFuzzer job each.
#
#   fuzz/run.sh                      # every target, 10 minutes each
#   FUZZ_TIME=60 fuzz/run.sh decode_packet http_head
#   SANITIZER=none fuzz/run.sh       # if AddressSanitizer does not link
#   FUZZ_BUILD=--release fuzz/run.sh # faster, but blind to integer overflow
#
# Targets are built optimised WITH debug assertions and overflow checks
# (`cargo fuzz run --debug-assertions`, cargo-fuzz's own default when `-O`/
# `--release` is not given): an `attempt to multiply with overflow` is a
# finding. `--release` drops both, so such a run cannot see an overflow.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Only a stable toolchain is
# needed: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly-only flags.
# Seed corpora are built from testdata/, the TLS stream fixtures in
# src/sniff/testdata/tls/ and /work/shared/captures/public/ (when present)
# by `cargo run --example fuzz_seeds` (the http_head seeds are written
# there too); tests/fuzz_regressions.rs replays the same seeds (but those
# of the public corpus) through the same harnesses. Corpora, crash
# artifacts and logs stay out of git (fuzz/.gitignore).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"

FUZZ_TIME="${FUZZ_TIME:-600}"
SANITIZER="${SANITIZER:-address}"
RSS_LIMIT_MB="${RSS_LIMIT_MB:-2048}"
FUZZ_BUILD="${FUZZ_BUILD:---debug-assertions}"
PUBLIC="${PUBLIC_CAPTURES:-/work/shared/captures/public}"
export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(read_capture decode_packet analyze_frames http_head dns_message tls_stream http_request)
fi

# (Re)built while any capture-seeded corpus is empty; existing files with
# the same names are overwritten, fuzzer-found inputs are kept.
need_seeds=0
for c in read_capture http_head dns_message tls_stream http_request; do
    if [ -z "$(ls -A "corpus/$c" 2>/dev/null)" ]; then need_seeds=1; fi
done
if [ "$need_seeds" -eq 1 ]; then
    inputs=("$root/testdata" "$root/src/sniff/testdata/tls")
    [ -d "$PUBLIC" ] && inputs+=("$PUBLIC")
    (cd "$root" && cargo run --quiet --example fuzz_seeds -- "$here/corpus" "${inputs[@]}")
fi
mkdir -p logs

for t in "${targets[@]}"; do
    echo "== $t: ${FUZZ_TIME}s, $FUZZ_BUILD, sanitizer $SANITIZER, log fuzz/logs/$t.log"
    start=$(date +%s)
    status=0
    cargo fuzz run "$FUZZ_BUILD" --sanitizer "$SANITIZER" "$t" "corpus/$t" -- \
        -max_total_time="$FUZZ_TIME" -rss_limit_mb="$RSS_LIMIT_MB" -timeout=10 \
        -print_final_stats=1 >"logs/$t.log" 2>&1 || status=$?
    end=$(date +%s)
    # The last status line: "#RUNS DONE cov: N ft: N corp: N/size ...".
    last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
    echo "   exit $status after $((end - start))s: $last"
    grep -E '^stat::' "logs/$t.log" || true
    if [ "$status" -ne 0 ]; then
        grep -E 'SUMMARY|panicked|Test unit written' "logs/$t.log" || true
    fi
done
