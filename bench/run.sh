#!/usr/bin/env bash
# bench/run.sh: teardown's replay benchmark. See bench/README.md.
#
# Generates (or reuses) a synthetic capture, then on that same file measures, several runs each,
# median reported: the bare libpcap loop (the floor), a bare walk over the memory-mapped file,
# every mode of `teardown replay` people read (--summary, JSON without and with events, the
# default timeline), and, where installed, `tshark -q -z conv,tcp` and `tcptrace -n`. Then checks
# teardown's classification against the generator's truth, checks that peak memory follows the
# connections open at once, not the capture's length, and (--open-scaling) how time and memory
# grow with the connections open at once.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/run.sh [options]

  --preset small|large   capture size (default small: ~190k packets; large: ~4.9M packets,
                         309,000 connections, 10,000 open at once, ~2.7 GB)
  --runs N               rounds of timed runs (one run of each tool a round; medians; default 3)
  --seed S               generator seed (default 1)
  --capture FILE         use this capture instead of generating one (truth check needs
                         FILE.truth.tsv; the memory-scaling check is skipped)
  --no-build             do not run `swift build -c release` first
  --no-teardown          measure only the floor and the peers (baseline numbers)
  --no-peers             skip tshark and tcptrace
  --no-scaling           skip the memory-scaling check (it generates a capture twice as long)
  --modes LIST           teardown modes timed in the rounds, comma-separated, from summary,json,
                         events,timeline (default: all four)
  --open-scaling LIST    also replay captures with LIST connections open at once (comma-separated,
                         e.g. 10000,100000,1000000: the last is a 6.8 GB capture), --summary and
                         JSON with events, and report time and memory per open connection

environment: TEARDOWN (default .build/release/teardown), CC (default cc)
output: a report on stdout, also saved as bench-out/results-DATE.md; tool outputs in bench-out/logs/
EOF
}

PRESET=small RUNS=3 SEED=1 CAPTURE="" BUILD=1 WITH_TEARDOWN=1 PEERS=1 SCALING=1 MODES=summary,json,events,timeline OPEN=""
while [ $# -gt 0 ]; do
    case $1 in
        --preset) PRESET=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --seed) SEED=${2:?}; shift 2 ;;
        --capture) CAPTURE=${2:?}; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --no-teardown) WITH_TEARDOWN=0; shift ;;
        --no-peers) PEERS=0; shift ;;
        --no-scaling) SCALING=0; shift ;;
        --modes) MODES=${2:?}; shift 2 ;;
        --open-scaling) OPEN=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case $PRESET in small|large) ;; *) echo "run.sh: --preset must be small or large" >&2; exit 2 ;; esac
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs must be a positive integer" >&2; exit 2; }
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
    case $m in summary|json|events|timeline) ;; *) echo "run.sh: --modes: unknown mode '$m' (summary, json, events, timeline)" >&2; exit 2 ;; esac
done
[[ ",$MODES," == *,summary,* ]] || { echo "run.sh: --modes must include summary (every ratio is against it)" >&2; exit 2; }
[[ -z $OPEN || $OPEN =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "run.sh: --open-scaling takes numbers separated by commas" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
OUT=bench-out
LOGS=$OUT/logs
mkdir -p "$OUT/bin" "$LOGS"
TEARDOWN=${TEARDOWN:-.build/release/teardown}
CC=${CC:-cc}
REPORT=$OUT/results-$(date -u +%Y%m%d-%H%M%S).md
exec > >(tee "$REPORT") 2>&1

say() { printf '%s\n' "$*"; }
die() { say "run.sh: $*"; exit 1; }

# ---------- prerequisites ----------

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (/usr/bin/time is missing)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null || die "apt-get install time failed"
    else sudo apt-get install -y -qq time >/dev/null || die "install GNU time: sudo apt-get install time"; fi
fi
command -v python3 >/dev/null || die "python3 is needed to generate captures and check the truth"

# ---------- helpers ----------

median() {   # median of the arguments
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# capture_for N K: path of the cached capture for N connections, K concurrency; generated if
# missing or older than the generator.
capture_for() {
    local path
    path=$(python3 tools/captures/gen_capture.py --connections "$1" --concurrency "$2" --seed "$SEED" --print-path) || return 1
    if [ -s "$path" ] && [ -s "$path.truth.tsv" ] && [ "$path" -nt tools/captures/gen_capture.c ]; then
        say "capture: $path (cached)" >&2
    else
        say "generating $path ($1 connections, $2 open at once, seed $SEED) ..." >&2
        local t0=$EPOCHREALTIME
        python3 tools/captures/gen_capture.py --connections "$1" --concurrency "$2" --seed "$SEED" --out "$path" >&2 \
            || { rm -f "$path" "$path.truth.tsv"; return 1; }
        say "generated in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s" >&2
    fi
    printf '%s\n' "$path"
}

declare -A WALL RSS STATUS RUNWALLS RUNRSS
TOOLS=()

# run_once NAME CMD...: one timed run of CMD; appends its wall seconds and peak RSS (KB) to
# RUNWALLS[NAME] and RUNRSS[NAME]. Wall time is taken from bash's microsecond clock around
# /usr/bin/time (whose %e has only 10 ms resolution); peak RSS is /usr/bin/time's %M. stdout
# goes to /dev/null (the issue's table measured every mode so: a 1.3 GB JSON file written in a
# run is the file system's work, not teardown's, and it fell on whichever run came next); the
# truth check reads the output of an untimed run. A failed run marks NAME failed; later runs of
# it are skipped.
run_once() {
    local name=$1; shift
    local rc t0 t1 wall rss
    [ -n "${STATUS[$name]:-}" ] || { STATUS[$name]=running; TOOLS+=("$name"); }
    [ "${STATUS[$name]}" = running ] || return 1
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %M' -o "$LOGS/$name.time" "$@" >/dev/null 2>"$LOGS/$name.err"
    rc=$?
    t1=$EPOCHREALTIME
    if [ $rc -ne 0 ]; then
        STATUS[$name]="failed (exit $rc)"
        say "  $name: exit status $rc; last lines of its stderr:"
        tail -n 5 "$LOGS/$name.err" | sed 's/^/    /'
        return 1
    fi
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')
    rss=$(tail -n 1 "$LOGS/$name.time" | awk '{print $2}')
    RUNWALLS[$name]+="$wall "
    RUNRSS[$name]+="$rss "
    say "  $name: $wall s, $(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}') MB"
}

# settle NAME: median wall time and median peak RSS of NAME's runs.
settle() {
    local name
    for name in "$@"; do
        [ "${STATUS[$name]:-}" = running ] || continue
        # shellcheck disable=SC2086  # the lists are space-separated numbers
        WALL[$name]=$(median ${RUNWALLS[$name]})
        # shellcheck disable=SC2086
        RSS[$name]=$(median ${RUNRSS[$name]})
        STATUS[$name]=ok
    done
}

# paired A B: the per-round ratios of A's wall time to B's (both run in the same round),
# "r1 r2 ...". Rounds where either failed are left out.
paired() {
    local -a a b
    read -r -a a <<<"${RUNWALLS[$1]:-}"
    read -r -a b <<<"${RUNWALLS[$2]:-}"
    local i n=$(( ${#a[@]} < ${#b[@]} ? ${#a[@]} : ${#b[@]} )) out=""
    for ((i = 0; i < n; i++)); do out+="$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN {printf "%.3f", x / y}') "; done
    printf '%s\n' "${out% }"
}

# ---------- capture ----------

if [ -n "$CAPTURE" ]; then
    [ -s "$CAPTURE" ] || die "no such capture: $CAPTURE"
    CAP=$CAPTURE
    SCALING=0
else
    read -r N K < <(python3 -c "
import sys; sys.path.insert(0, 'tools/captures'); import gen_capture as g
p = g.PRESETS['$PRESET']; print(p['connections'], p['concurrency'])")
    CAP=$(capture_for "$N" "$K") || die "capture generation failed"
fi
CAP=${CAP#"$ROOT/"}

# ---------- builds ----------

"$CC" -O2 -Wall -o "$OUT/bin/floor" bench/floor.c -lpcap || die "cannot build bench/floor.c (is libpcap-dev installed?)"

HAVE_TEARDOWN=0
if [ "$WITH_TEARDOWN" = 1 ]; then
    if [ "$BUILD" = 1 ]; then
        if command -v swift >/dev/null; then
            say "building teardown (swift build -c release) ..."
            swift build -c release --product teardown >"$LOGS/swift-build.log" 2>&1 \
                || { say "swift build failed; last lines:"; tail -n 15 "$LOGS/swift-build.log" | sed 's/^/    /'; }
        else
            say "swift not on PATH; not building teardown"
        fi
    fi
    if [ ! -x "$TEARDOWN" ]; then
        say "SKIPPING teardown: $TEARDOWN does not exist (build it with 'swift build -c release' or set TEARDOWN=path)"
    elif ! "$TEARDOWN" replay --help >/dev/null 2>&1; then
        say "SKIPPING teardown: '$TEARDOWN replay' is not available in this build"
    else
        HAVE_TEARDOWN=1
    fi
fi

# ---------- header ----------

PCAPVER=$("$OUT/bin/floor" "$CAP" 2>&1 >/dev/null | head -n 1)   # also warms the page cache
read -r PACKETS BYTES < <("$OUT/bin/floor" "$CAP" 2>/dev/null | sed -E 's/packets=([0-9]+) bytes=([0-9]+).*/\1 \2/')
[ -n "${PACKETS:-}" ] && [ "$PACKETS" -gt 0 ] || die "the floor could not read $CAP"
CONNS=$(( $(wc -l <"$CAP.truth.tsv" 2>/dev/null || echo 1) - 1 ))
say ""
say "# teardown replay benchmark"
say ""
say "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
say "- machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(nproc) cores;" \
    "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
say "- $PCAPVER; teardown: $([ $HAVE_TEARDOWN = 1 ] && echo "$TEARDOWN" || echo 'not measured')"
say "- capture: $CAP: $PACKETS packets, $(awk -v b="$(stat -c %s "$CAP")" 'BEGIN {printf "%.2f GB", b / 1e9}')," \
    "$([ "$CONNS" -gt 0 ] && echo "$CONNS connections" || echo 'no truth file')$([ -n "${K:-}" ] && echo ", at most $K open at once")"
say "- rounds: $RUNS (one run of each tool a round, interleaved; medians)"
say ""

# ---------- timed runs ----------

# Outputs of an earlier benchmark are deleted before anything is timed, and the deletion reaches
# the disk (sync): deleting a 340 MB file that was written out makes the file system free (and,
# mounted with discard, discard) its blocks. Each round's own rm deletes only the last round's
# output, which has not been written out yet.
rm -f "$LOGS"/*.out
sync

# Every run reads the capture from memory: it is locked in the page cache (bench/pin.c) for the
# timed runs, where the machine allows it.
"$CC" -O2 -Wall -o "$OUT/bin/pin" bench/pin.c || die "cannot build bench/pin.c"
PINNED=0
coproc PIN { exec "$OUT/bin/pin" "$CAP" 2>&1; }
if read -r -t 120 line <&"${PIN[0]}" && [[ $line == pinned* ]]; then
    PINNED=1
    say "the capture is locked in memory (bench/pin.c) while the tools run"
else
    say "NOT PINNED: ${line:-pin gave no answer}; runs may read part of the file from disk"
fi
# One untimed read first: the first read of pages just brought in costs the kernel more (1.8 s
# against 0.9 s for the floor, seen here), work that belongs to no tool.
"$OUT/bin/floor" "$CAP" >/dev/null 2>&1
# And one untimed run of each teardown mode. This VM's balloon device reports free memory to the
# host (free page reporting), which takes it back after about 2 s; the next use of such a page
# faults on the host. Touching 1 GB of fresh memory took 0.39 s right after another process freed
# it and 1.1-3.2 s after 15 s idle. Without this run, round 1's JSON run was the one that paid:
# 340 MB of page cache for its output and teardown's heap, all on returned pages (1.4-1.9 s
# against 0.9-1.3 s in later rounds). Every later round reuses what the round before freed.
# teardown's two timed modes, the same commands warmed up here and timed below.
# mode_args MODE: the replay options of a teardown mode.
mode_args() {
    case $1 in
        summary) echo "--summary" ;;
        json) echo "--format json --no-events" ;;
        events) echo "--format json" ;;
        timeline) echo "" ;;
    esac
}
if [ $HAVE_TEARDOWN = 1 ]; then
    for m in "${MODE_LIST[@]}"; do
        # shellcheck disable=SC2046  # the options are words
        if [ "$m" = json ]; then "$TEARDOWN" replay "$CAP" $(mode_args json) >"$LOGS/json.out" 2>/dev/null
        else "$TEARDOWN" replay "$CAP" $(mode_args "$m") >/dev/null 2>&1; fi
    done
    # The truth check needs a JSON output even when the json mode is not timed.
    [[ ",$MODES," == *,json,* ]] || "$TEARDOWN" replay "$CAP" $(mode_args json) >"$LOGS/json.out" 2>/dev/null
fi

# The floors and teardown's two modes run in rounds, one run of each per round, so that a slow
# spell of the machine (other tenants) falls on all of them alike; the targets are checked on
# each round's own ratios. The peers are slow and are timed after the rounds.
# The mmap walk reads classic pcap only; for a pcapng --capture it is left out.
MMAP=0
"$OUT/bin/floor" --mmap "$CAP" >/dev/null 2>&1 && MMAP=1
say "timing ($RUNS rounds of floor, floor1m$([ $MMAP = 1 ] && echo ", mmap")$([ $HAVE_TEARDOWN = 1 ] && echo ", ${MODES//,/, }")):"
for ((round = 1; round <= RUNS; round++)); do
    say " round $round"
    run_once floor "$OUT/bin/floor" "$CAP"
    run_once floor1m "$OUT/bin/floor" --buffer 1048576 "$CAP"
    [ $MMAP = 1 ] && run_once mmap "$OUT/bin/floor" --mmap "$CAP"
    if [ $HAVE_TEARDOWN = 1 ]; then
        for m in "${MODE_LIST[@]}"; do
            # shellcheck disable=SC2046
            run_once "$m" "$TEARDOWN" replay "$CAP" $(mode_args "$m")
        done
    fi
done
settle floor floor1m mmap "${MODE_LIST[@]}"
if [ "$PEERS" = 1 ]; then
    for peer in tshark tcptrace; do
        command -v $peer >/dev/null || { say "  $peer not installed: skipped"; continue; }
        say " $peer ($RUNS runs)"
        for ((round = 1; round <= RUNS; round++)); do
            case $peer in
                tshark) run_once tshark tshark -q -z conv,tcp -r "$CAP" || break ;;
                tcptrace) run_once tcptrace tcptrace -n "$CAP" || break ;;
            esac
        done
        settle $peer
    done
fi
if [ $PINNED = 1 ]; then pinfd=${PIN[1]}; exec {pinfd}>&-; wait "$PIN_PID" 2>/dev/null; fi

declare -A LABEL=(
    [floor]="floor: libpcap pcap_next_ex loop"
    [floor1m]="floor, 1 MiB stdio buffer (as teardown opens files)"
    [mmap]="bare walk over the memory-mapped file (no libpcap)"
    [summary]="teardown replay --summary"
    [json]="teardown replay --format json --no-events"
    [events]="teardown replay --format json (events)"
    [timeline]="teardown replay (timelines)"
    [tshark]="tshark -q -z conv,tcp"
    [tcptrace]="tcptrace -n"
)
pps() { awk -v p="$PACKETS" -v s="${WALL[$1]}" 'BEGIN {printf "%.0f", p / s}'; }
mb() { awk -v k="${RSS[$1]}" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "-"}'; }

say ""
say "| tool | median wall s | packets/s | peak RSS MB |"
say "| --- | ---: | ---: | ---: |"
for t in "${TOOLS[@]}"; do
    if [ "${STATUS[$t]}" = ok ]; then
        say "| ${LABEL[$t]} | ${WALL[$t]} | $(pps "$t" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') | $(mb "$t") |"
    else
        say "| ${LABEL[$t]} | ${STATUS[$t]} | | |"
    fi
done

if [ $HAVE_TEARDOWN = 1 ]; then
    say ""
    say "ratios: teardown's packets/s divided by the other tool's (speed; >1 = teardown faster),"
    say "and teardown's peak RSS divided by the other tool's (memory; <1 = teardown smaller):"
    say ""
    header="| teardown mode |"; rule="| --- |"
    for t in floor floor1m mmap tshark tcptrace; do
        [ "${STATUS[$t]:-}" = ok ] || continue
        header+=" speed vs $t | memory vs $t |"; rule+=" ---: | ---: |"
    done
    say "$header"; say "$rule"
    for m in "${MODE_LIST[@]}"; do
        [ "${STATUS[$m]:-}" = ok ] || continue
        row="| ${LABEL[$m]} |"
        for t in floor floor1m mmap tshark tcptrace; do
            [ "${STATUS[$t]:-}" = ok ] || continue
            # The mmap walk's RSS is the mapped file's pages it touched: no yardstick for memory.
            if [ "$t" = mmap ]; then row+=" $(ratio "$(pps "$m")" "$(pps "$t")") | - |"
            else row+=" $(ratio "$(pps "$m")" "$(pps "$t")") | $(ratio "${RSS[$m]}" "${RSS[$t]}") |"; fi
        done
        say "$row"
    done
    say ""
    # met LIST OP LIMIT: "k of n" rounds whose ratio satisfies OP LIMIT (ge or le).
    met() { awk -v op="$2" -v lim="$3" '{for (i = 1; i <= NF; i++) {n++; if ((op == "ge" && $i >= lim) || (op == "le" && $i <= lim)) k++}}
        END {printf "%d of %d rounds", k, n}' <<<"$1"; }
    if [ "${STATUS[summary]:-}" = ok ]; then
        # floor time / summary time is summary's packet rate over the floor's.
        r=$(paired floor summary)
        # shellcheck disable=SC2086
        say "target: --summary at >= 0.60 of the floor's packet rate: $(median $r) (median of rounds;" \
            "rounds: $r; met in $(met "$r" ge 0.60))"
        if [ "${STATUS[floor1m]:-}" = ok ]; then
            r=$(paired floor1m summary)
            # shellcheck disable=SC2086
            say "  against the floor given teardown's 1 MiB read buffer too: $(median $r) (rounds: $r)"
        fi
    fi
    if [ "${STATUS[summary]:-}" = ok ] && [ "${STATUS[mmap]:-}" = ok ]; then
        r=$(paired mmap summary)
        # shellcheck disable=SC2086
        say "target (issue 19): --summary at >= 0.70 of the mmap walk's packet rate: $(median $r) (median of rounds;" \
            "rounds: $r; met in $(met "$r" ge 0.70))"
    fi
    # target MODE LIMIT: MODE's time over summary's, per round.
    target() {
        [ "${STATUS[summary]:-}" = ok ] && [ "${STATUS[$1]:-}" = ok ] || return 0
        local r; r=$(paired "$1" summary)
        # shellcheck disable=SC2086
        say "target: ${LABEL[$1]#teardown replay } time / summary time <= $2: $(median $r) (median of rounds; rounds: $r;" \
            "met in $(met "$r" le "$2"))"
    }
    target json 1.2
    target events 1.5
    target timeline 1.5
    for m in "${MODE_LIST[@]}"; do
        [ "${STATUS[$m]:-}" = ok ] || continue
        say "target: peak memory under 100 MB: ${LABEL[$m]#teardown replay }: $(mb "$m") MB" \
            "$(awk -v k="${RSS[$m]}" 'BEGIN {print (k < 102400 ? "(met)" : "(NOT met)")}')"
    done
fi

# ---------- truth ----------

if [ $HAVE_TEARDOWN = 1 ] && [ "${STATUS[json]:-}" = ok ]; then
    say ""
    say "classification vs the generator's truth (from the json run's output):"
    if [ -s "$CAP.truth.tsv" ]; then
        python3 bench/check_truth.py "$CAP.truth.tsv" "$LOGS/json.out" | sed 's/^/  /'
    else
        say "  no truth file $CAP.truth.tsv: skipped"
    fi
fi

# ---------- memory scaling ----------

if [ $HAVE_TEARDOWN = 1 ] && [ "$SCALING" = 1 ] && [ "${STATUS[summary]:-}" = ok ]; then
    say ""
    say "memory scaling: the same concurrency ($K open at once), twice the connections (one run a mode):"
    CAP2=$(capture_for $((2 * N)) "$K") || die "capture generation failed"
    CAP2=${CAP2#"$ROOT/"}
    for m in "${MODE_LIST[@]}"; do
        [ "${STATUS[$m]:-}" = ok ] || continue
        # shellcheck disable=SC2046
        if run_once "${m}2x" "$TEARDOWN" replay "$CAP2" $(mode_args "$m") && settle "${m}2x"; then
            say "  ${LABEL[$m]#teardown replay }: $N connections $(mb "$m") MB; $((2 * N)) connections $(mb "${m}2x") MB;" \
                "ratio $(ratio "${RSS[${m}2x]}" "${RSS[$m]}") (target: below 1.10)"
        fi
    done
fi

# ---------- connections open at once ----------

if [ $HAVE_TEARDOWN = 1 ] && [ -n "$OPEN" ]; then
    say ""
    say "connections open at once: a capture whose every connection is open when it ends (each"
    say "of K lanes runs one connection), replayed with --max-connections above K (one run each):"
    IFS=, read -r -a OPEN_LIST <<<"$OPEN"
    declare -A OPEN_CAP=()
    for k in "${OPEN_LIST[@]}"; do OPEN_CAP[$k]=$(capture_for "$k" "$k" 2>/dev/null) || die "capture generation failed"; done
    say ""
    say "| open at once | packets | mode | wall s | packets/s | vs the first | peak RSS MB | bytes per open connection |"
    say "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    declare -A FIRST_PPS=() FIRST_RSS=() FIRST_K=()
    for k in "${OPEN_LIST[@]}"; do
        capk=${OPEN_CAP[$k]}
        pk=$("$OUT/bin/floor" --mmap "$capk" 2>/dev/null | sed -E 's/packets=([0-9]+).*/\1/')
        coproc PINK { exec "$OUT/bin/pin" "$capk" 2>&1; }
        read -r -t 300 line <&"${PINK[0]}"; [[ ${line:-} == pinned* ]] || say "  ($capk NOT PINNED: ${line:-no answer})"
        "$OUT/bin/floor" --mmap "$capk" >/dev/null 2>&1
        for m in summary events; do
            # shellcheck disable=SC2046
            run_once "open$k-$m" "$TEARDOWN" replay "$capk" --max-connections $((2 * k)) $(mode_args "$m") || continue
            settle "open$k-$m"
            w=${WALL[open$k-$m]} r=${RSS[open$k-$m]}
            p=$(awk -v p="$pk" -v s="$w" 'BEGIN {printf "%.0f", p / s}')
            if [ -z "${FIRST_PPS[$m]:-}" ]; then FIRST_PPS[$m]=$p FIRST_RSS[$m]=$r FIRST_K[$m]=$k; per="-"
            else per=$(awk -v a="$r" -v b="${FIRST_RSS[$m]}" -v k="$k" -v k0="${FIRST_K[$m]}" 'BEGIN {printf "%.0f", (a - b) * 1024 / (k - k0)}'); fi
            say "| $k | $pk | $m | $w | $p | $(ratio "$p" "${FIRST_PPS[$m]}") | $(awk -v k="$r" 'BEGIN {printf "%.1f", k / 1024}') | $per |"
        done
        pinfd=${PINK[1]}; exec {pinfd}>&-; wait "$PINK_PID" 2>/dev/null
    done
    say ""
    say "(bytes per open connection: the growth of peak RSS over the first row's, divided by the growth in"
    say "connections open at once; targets: 1,000,000 open in under 1 GB, at no less than half the first row's packet rate)"
fi

say ""
say "report saved as $REPORT"
