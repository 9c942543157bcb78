#!/bin/sh
# Builds the libFuzzer target in Fuzz/ and runs it.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]   fuzz for SECONDS (default 600) on one core
#   scripts/fuzz.sh --build                                build only
#   scripts/fuzz.sh --run FILE...                          run the target on inputs (reproduce a crash)
#   scripts/fuzz.sh --smoke [RUNS]                         build, then run RUNS inputs (default 20000)
#                                                          from the seed corpus and mutations (CI)
#
# The target is built with `swiftc -sanitize=fuzzer,address` from the sources of the pure modules
# it needs (no libpcap). Which modules: every module that Fuzz/*.swift imports, and every module
# those depend on, read from Package.swift (`swift package describe`) and built in dependency
# order; nothing here names a module, so adding or splitting one needs no change. Each Swift
# module is compiled on its own, instrumented, so that `import TeardownWire` resolves as in the
# package; a C module (CPrefetch) gets a module map and its C files compiled with the sanitizers.
# A system library (zlib, libzstd, liblz4 under TeardownCaptureFile) is linked as installed, with
# the libraries its module map names (`link "z"`), uninstrumented; libpcap is never reached
# (TeardownCapture, its only user, is not a dependency of the target).
#
# The seed corpus is generated from captures/ by scripts/fuzz-corpus.py; new inputs the fuzzer
# finds go to .build/fuzz/corpus, crashes to .build/fuzz/artifacts. See docs/hardening.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/.build/fuzz"
BIN="$OUT/teardown-fuzz"
SAN="-sanitize=fuzzer,address"
CSAN="-fsanitize=fuzzer-no-link,address"
FLAGS="-O -g -swift-version 5 -parse-as-library -package-name teardown -I $OUT/modules -I $OUT/cmodules"
mkdir -p "$OUT/modules" "$OUT/cmodules" "$OUT/objects" "$OUT/seeds" "$OUT/corpus" "$OUT/artifacts"

# Prints "NAME KIND PATH" for each module the fuzz target is built from, dependencies first
# (KIND: SwiftTarget, ClangTarget or SystemLibraryTarget).
modules() {
    swift package describe --type json > "$OUT/package.json"
    sed -n 's/^import \([A-Za-z0-9_]*\).*/\1/p' Fuzz/*.swift | sort -u > "$OUT/imports"
    python3 - "$OUT/package.json" "$OUT/imports" <<'EOF'
import json, sys
targets = {t["name"]: t for t in json.load(open(sys.argv[1]))["targets"]}
imports = [n for n in open(sys.argv[2]).read().split() if n in targets]
order, seen = [], set()
def visit(name, via):
    if name in seen:
        return
    seen.add(name)
    t = targets[name]
    kind = t.get("module_type")
    system = kind == "SystemLibraryTarget" and t.get("type") == "system-target"
    if not system and (kind not in ("SwiftTarget", "ClangTarget") or t.get("type") != "library"):
        sys.exit(f"fuzz.sh: the fuzz target needs {name} ({kind}, via {via}); it builds library modules only")
    for d in t.get("target_dependencies") or []:
        visit(d, name)
    order.append(f"{name} {kind} {t['path']}")
if not imports:
    sys.exit("fuzz.sh: Fuzz/*.swift imports no module of the package")
for n in imports:
    visit(n, "Fuzz")
print("\n".join(order))
EOF
}

build() {
    list=$(modules)
    paths=$(echo "$list" | awk '{print $3}')
    # Rebuilt when any source of those modules, the target, this script or the package changed.
    newest=$(find $paths Fuzz scripts/fuzz.sh Package.swift -type f \( -name '*.swift' -o -name '*.c' -o -name '*.h' \
        -o -name '*.modulemap' -o -name '*.sh' \) -newer "$BIN" 2>/dev/null | head -1 || true)
    if [ -x "$BIN" ] && [ -z "$newest" ]; then return; fi
    echo "building $BIN from:" $(echo "$list" | awk '{print $1}') >&2
    objects=""
    libraries=""
    : > "$OUT/cmodules/module.modulemap"
    while read -r module kind path; do
        case "$kind" in
        SystemLibraryTarget)
            # Its module map (beside its shim header) is found through -I; the libraries it
            # names are linked.
            FLAGS="$FLAGS -I $ROOT/$path"
            for lib in $(sed -n 's/^ *link "\([^"]*\)".*/\1/p' "$path/module.modulemap"); do
                libraries="$libraries -l$lib"
            done ;;
        ClangTarget)
            # SwiftPM's rule for a C target without a module map of its own: the include folder
            # is the module's umbrella.
            if [ -f "$path/include/module.modulemap" ]; then
                FLAGS="$FLAGS -I $ROOT/$path/include"
            else
                printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' "$module" "$ROOT/$path/include" \
                    >> "$OUT/cmodules/module.modulemap"
            fi
            for c in $(find "$path" -name '*.c'); do
                o="$OUT/objects/$module-$(basename "$c" .c).o"
                clang $CSAN -O2 -g -I "$path/include" -c -o "$o" "$c"
                objects="$objects $o"
            done ;;
        SwiftTarget)
            # One object per module (whole-module optimisation), plus its .swiftmodule.
            swiftc $SAN $FLAGS -wmo -module-name "$module" -emit-module \
                -emit-module-path "$OUT/modules/$module.swiftmodule" \
                -c -o "$OUT/objects/$module.o" $(find "$path" -name '*.swift' | sort)
            objects="$objects $OUT/objects/$module.o" ;;
        esac
    done <<LIST
$list
LIST
    swiftc $SAN $FLAGS -use-ld=lld -module-name TeardownFuzz -o "$BIN" Fuzz/*.swift $objects $libraries
}

case "${1:-}" in
--build)
    build; exit 0 ;;
--run)
    shift; build; exec "$BIN" -runs=1 "$@" ;;
--smoke)
    # A fixed number of executions over the seed corpus, in a corpus folder of its own (so the
    # run does not depend on what earlier campaigns found): CI's check that the target builds,
    # runs, and does not crash on the captures or on their nearest mutations.
    RUNS=${2:-20000}
    build
    python3 scripts/fuzz-corpus.py "$OUT/seeds"
    rm -rf "$OUT/smoke-corpus"
    mkdir -p "$OUT/smoke-corpus"
    exec "$BIN" -runs="$RUNS" -seed=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 -detect_leaks=0 \
        -artifact_prefix="$OUT/artifacts/" "$OUT/smoke-corpus" "$OUT/seeds" ;;
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
