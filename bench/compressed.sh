#!/usr/bin/env bash
# bench/compressed.sh: how much longer `teardown replay` takes on a compressed capture than on
# the same capture decompressed. The target is at most 1.3x (issue 13).
#
#   bench/compressed.sh [--capture FILE] [--runs N] [--args "ARGS"]
#
# Compresses FILE (default bench-out/bench-small.pcap, made by tools/captures/gen_capture.py
# --preset small when missing) with gzip, zstd and lz4 at their default levels, as a user would,
# into bench-out/ (kept while newer than FILE), and a pcapng copy (editcap) with its gzip. Then,
# in N rounds (default 5), one run of each: the plain file, each compressed file, the compressed
# file on standard input; reports each one's median wall time and its ratio to the plain file's,
# the median of the per-round ratios (a slow spell of a shared machine falls on one round
# alike). Also times `gzip -dc`, `zstd -dc`, `lz4 -dc` to /dev/null: the decompression alone.
# Every file is read once before the rounds, so all come from the page cache.
#
# environment: TEARDOWN (default .build/release/teardown)
set -uo pipefail

CAPTURE="" RUNS=5 ARGS="--summary"
while [ $# -gt 0 ]; do
    case $1 in
        --capture) CAPTURE=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --args) ARGS=${2?}; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "compressed.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
TEARDOWN=${TEARDOWN:-.build/release/teardown}
[ -x "$TEARDOWN" ] || { echo "compressed.sh: $TEARDOWN is missing (swift build -c release)" >&2; exit 1; }
mkdir -p bench-out
if [ -z "$CAPTURE" ]; then
    CAPTURE=bench-out/bench-small.pcap
    [ -s "$CAPTURE" ] || python3 tools/captures/gen_capture.py --preset small --out "$CAPTURE" >&2 || exit 1
fi
base=bench-out/$(basename "$CAPTURE")
fresh() { [ -s "$1" ] && [ "$1" -nt "$CAPTURE" ]; }
fresh "$base.gz" || gzip -c "$CAPTURE" > "$base.gz"
fresh "$base.zst" || zstd -q -c "$CAPTURE" > "$base.zst"
fresh "$base.lz4" || lz4 -q -c "$CAPTURE" > "$base.lz4"
png=${base%.pcap}.pcapng
fresh "$png" || editcap -F pcapng "$CAPTURE" "$png"
fresh "$png.gz" || gzip -c "$png" > "$png.gz"
for f in "$CAPTURE" "$base.gz" "$base.zst" "$base.lz4" "$png" "$png.gz"; do cat "$f" > /dev/null; done

# name|command (run with bash -c; the capture's paths substituted)
cases=(
    "pcap|$TEARDOWN replay $CAPTURE $ARGS"
    "pcap.gz|$TEARDOWN replay $base.gz $ARGS"
    "pcap.zst|$TEARDOWN replay $base.zst $ARGS"
    "pcap.lz4|$TEARDOWN replay $base.lz4 $ARGS"
    "pcap.gz stdin|$TEARDOWN replay - $ARGS < $base.gz"
    "pcapng|$TEARDOWN replay $png $ARGS"
    "pcapng.gz|$TEARDOWN replay $png.gz $ARGS"
    "gzip -dc|gzip -dc $base.gz"
    "zstd -dc|zstd -dc $base.zst"
    "lz4 -dc|lz4 -dc $base.lz4"
)
declare -A T
for c in "${cases[@]}"; do bash -c "${c#*|}" > /dev/null 2>&1; done   # one untimed run each
for ((r = 1; r <= RUNS; r++)); do
    for c in "${cases[@]}"; do
        t0=$EPOCHREALTIME
        bash -c "${c#*|}" > /dev/null 2>&1
        t1=$EPOCHREALTIME
        T[${c%%|*}]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') "
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# per-round ratios of NAME to REF, median
ratio() {
    local -a a b; read -r -a a <<<"${T[$1]}"; read -r -a b <<<"${T[$2]}"
    local i out=()
    for ((i = 0; i < ${#a[@]}; i++)); do out+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN {printf "%.3f", x / y}')"); done
    echo "$(median "${out[@]}") (rounds: ${out[*]})"
}
echo "capture: $CAPTURE ($(stat -c %s "$CAPTURE") bytes; gz $(stat -c %s "$base.gz"), zst $(stat -c %s "$base.zst"), lz4 $(stat -c %s "$base.lz4"))"
echo "teardown replay FILE $ARGS, $RUNS rounds; median wall s, and the median of the per-round ratios to the plain pcap (target <= 1.3)"
printf '%-14s %10s  %s\n' case "median s" "ratio to pcap"
for c in "${cases[@]}"; do
    n=${c%%|*}
    # shellcheck disable=SC2086
    printf '%-14s %10.3f  %s\n' "$n" "$(median ${T[$n]})" "$(ratio "$n" pcap)"
done
