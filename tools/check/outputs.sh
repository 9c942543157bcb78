#!/usr/bin/env bash
# Replays every capture in captures/ (and any extra files given) in every output mode and writes
# each output, stderr and exit status to a folder, so that two builds can be compared byte for
# byte:
#
#   tools/check/outputs.sh BINARY OUTDIR [EXTRA_CAPTURE...]
#   diff -r OUTDIR_BEFORE OUTDIR_AFTER && echo identical
#
# Modes: timeline (no colour, colour), JSON (with and without events), summary (no colour,
# colour), and the bounded modes that exercise eviction and idle expiry. Sidecars
# (NAME.events.jsonl) are picked up as replay picks them up. Every capture is also replayed
# from standard input.
set -u
bin=$1; out=$2; shift 2
cd "$(dirname "$0")/../.."
mkdir -p "$out"
modes=(
  "timeline|--no-color"
  "timeline-color|--color always"
  "json|--format json"
  "json-no-events|--format json --no-events"
  "summary|--summary --no-color"
  "summary-color|--summary --color always"
  "evict|--max-connections 2 --no-color"
  "evict-json|--max-connections 2 --format json"
  "idle|--idle-timeout 0.01 --format json"
)
files=$(find captures -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' -o -name '*.zst' -o -name '*.lz4' | sort)
for f in $files "$@"; do
  name=$(echo "$f" | tr '/' '_')
  for m in "${modes[@]}"; do
    tag=${m%%|*}; args=${m#*|}
    # shellcheck disable=SC2086
    NO_COLOR= COLUMNS= "$bin" replay "$f" $args >"$out/$name.$tag.out" 2>"$out/$name.$tag.err"
    echo "exit $?" >>"$out/$name.$tag.err"
  done
  "$bin" replay - --format json <"$f" >"$out/$name.stdin.out" 2>"$out/$name.stdin.err"
  echo "exit $?" >>"$out/$name.stdin.err"
done
# Several files at once, and a filter.
# Standard output and standard error go to separate files: the files are read on two threads,
# so a warning about one of them may land anywhere among the other's lines.
"$bin" replay captures/real/*.pcap --no-color >"$out/all-real.out" 2>"$out/all-real.err"; echo "exit $?" >>"$out/all-real.err"
"$bin" replay captures/real/*.pcap 'tcp port 5001' --summary --no-color >"$out/filter.out" 2>"$out/filter.err"; echo "exit $?" >>"$out/filter.err"
"$bin" replay /nonexistent.pcap >"$out/missing.out" 2>&1; echo "exit $?" >>"$out/missing.out"
echo "wrote $(ls "$out" | wc -l) files to $out" >&2
