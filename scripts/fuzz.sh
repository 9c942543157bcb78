#!/bin/sh
# Builds the libFuzzer target in Fuzz/ and runs it.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]   fuzz for SECONDS (default 600) on one core
#   scripts/fuzz.sh --build                                build only
#   scripts/fuzz.sh --run FILE...                          run the target on inputs (reproduce a crash)
#
# The target is built with `swiftc -sanitize=fuzzer,address` from the sources of TeardownWire,
# TeardownModel and TeardownRender (pure Swift, no libpcap): each module is compiled on its own,
# instrumented, so that `import TeardownWire` resolves as in the package. The seed corpus is
# generated from captures/ by scripts/fuzz-corpus.py; new inputs the fuzzer finds go to
# .build/fuzz/corpus, crashes to .build/fuzz/artifacts. See docs/hardening.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/.build/fuzz"
BIN="$OUT/teardown-fuzz"
SAN="-sanitize=fuzzer,address"
FLAGS="-O -g -swift-version 5 -parse-as-library -I $OUT/modules"
mkdir -p "$OUT/modules" "$OUT/objects" "$OUT/seeds" "$OUT/corpus" "$OUT/artifacts"

build() {
    stamp="$OUT/stamp"
    newest=$(find Sources/TeardownWire Sources/TeardownModel Sources/TeardownRender Fuzz -name '*.swift' -newer "$BIN" 2>/dev/null | head -1 || true)
    if [ -x "$BIN" ] && [ -z "$newest" ]; then return; fi
    echo "building $BIN" >&2
    objects=""
    for module in TeardownWire TeardownModel TeardownRender; do
        # One object per module (whole-module optimisation), plus its .swiftmodule.
        swiftc $SAN $FLAGS -wmo -module-name "$module" -emit-module \
            -emit-module-path "$OUT/modules/$module.swiftmodule" \
            -c -o "$OUT/objects/$module.o" Sources/"$module"/*.swift
        objects="$objects $OUT/objects/$module.o"
    done
    swiftc $SAN $FLAGS -use-ld=lld -module-name TeardownFuzz -o "$BIN" Fuzz/*.swift $objects
    touch "$stamp"
}

case "${1:-}" in
--build)
    build; exit 0 ;;
--run)
    shift; build; exec "$BIN" -runs=1 "$@" ;;
esac

SECONDS_TO_RUN=${1:-600}
[ $# -gt 0 ] && shift
build
python3 scripts/fuzz-corpus.py "$OUT/seeds"
# One job on one core (the machine is shared); -fork=1 keeps fuzzing after a crash, so one run
# collects every distinct crash into artifacts/. Leaks are not bugs here (one-shot CLI) and
# libFuzzer's leak check is noisy with Swift's runtime metadata, so it is off.
exec "$BIN" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -detect_leaks=0 -use_value_profile=1 -artifact_prefix="$OUT/artifacts/" \
    "$@" "$OUT/corpus" "$OUT/seeds"
