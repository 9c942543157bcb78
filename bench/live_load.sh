#!/usr/bin/env bash
# bench/live_load.sh: how many connections per second can `teardown live` follow on loopback
# without dropping packets, and does it report every one with the right ending?
#
# Runs in a private network namespace that it creates (`unshare -n`, needs root), so only the
# load's packets are on its loopback. For each rate: starts `teardown live -i lo --summary
# 'tcp port PORT'`, runs bench/live_load.c (short connections, a third each: server closes
# first, client closes first, client resets with SO_LINGER {1,0}) for a few seconds, stops
# teardown with SIGINT, and compares its summary with what the load made (bench/check_live.py).
#
#   sudo bench/live_load.sh                        # rates 1000 2000 5000 10000 and 0 (= as fast as possible)
#   sudo bench/live_load.sh --rates "500 0" --seconds 5 --buffer-size 64
#
# Output: per rate, connections/s achieved, packets captured, kernel drops (teardown's own
# count at exit, from pcap_stats; on lo the kernel counts every packet twice, outgoing and
# incoming, and libpcap drops the outgoing copy), the lag (seconds teardown kept working after
# the load stopped: above ~0.5 s it is not keeping up), connections still held at SIGINT
# (reported then, at exit), and how many connections were reported with the right ending.
set -uo pipefail

RATES="1000 2000 5000 10000 0" SECONDS_PER_RATE=4 PORT=8080 BUILD=1 BUFFER_MB=64
while [ $# -gt 0 ]; do
    case $1 in
        --rates) RATES=${2:?}; shift 2 ;;
        --seconds) SECONDS_PER_RATE=${2:?}; shift 2 ;;
        --port) PORT=${2:?}; shift 2 ;;
        --buffer-size) BUFFER_MB=${2:?}; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n 2,17p "$0"; exit 0 ;;
        *) echo "live_load.sh: unknown option: $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
OUT=bench-out/live
mkdir -p "$OUT" bench-out/bin
TEARDOWN=${TEARDOWN:-.build/release/teardown}

if [ -z "${LIVE_LOAD_IN_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "live_load.sh: needs root (a network namespace and a live capture); try sudo" >&2; exit 1; }
    if [ $BUILD = 1 ]; then
        swift build -c release --product teardown >/dev/null || { echo "live_load.sh: swift build failed" >&2; exit 1; }
    fi
    ${CC:-cc} -O2 -Wall -o bench-out/bin/live_load bench/live_load.c -lpthread || exit 1
    export LIVE_LOAD_IN_NETNS=1
    exec unshare -n -- "$0" --rates "$RATES" --seconds "$SECONDS_PER_RATE" --port "$PORT" \
        --buffer-size "$BUFFER_MB" --no-build
fi

# Inside the namespace: a loopback of our own, ports for many short connections.
ip link set lo up || exit 1
sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
sysctl -qw net.ipv4.tcp_tw_reuse=1

printf '%-6s %8s %9s %9s %6s %6s  %s\n' "rate" "conn/s" "packets" "dropped" "lag s" "held" "reported (right ending / made)"
for rate in $RATES; do
    tag=$rate; [ "$rate" = 0 ] && tag=max
    "$TEARDOWN" live -i lo --summary --no-color --buffer-size "$BUFFER_MB" "tcp port $PORT" \
        >"$OUT/summary-$tag.txt" 2>"$OUT/teardown-$tag.err" &
    td=$!
    # Wait until the capture is active: teardown says so on stderr, or give it a second.
    for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q -i "listening\|capturing" "$OUT/teardown-$tag.err" && break; sleep 0.1; done
    sleep 0.5
    bench-out/bin/live_load "$PORT" "$rate" "$SECONDS_PER_RATE" "$OUT/expected-$tag.tsv" 2>"$OUT/load-$tag.err"
    # Let teardown drain the capture ring before stopping it (SIGINT stops reading at once, so
    # packets still queued would be neither reported nor counted as drops): wait until its CPU
    # time stops growing. How long that took is its backlog ("lag") when the load ended.
    lag_start=$(date +%s.%N) prev=-1
    for _ in $(seq 1 120); do
        sleep 0.5
        cpu=$(awk '{print $14 + $15}' "/proc/$td/stat" 2>/dev/null || echo done)
        [ "$cpu" = "$prev" ] && break
        prev=$cpu
    done
    lag=$(awk -v a="$lag_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a - 0.5 }')
    sleep 1.5   # the linger time of the last connections (teardown live --linger 1)
    kill -INT $td
    wait $td
    load=$(tail -1 "$OUT/load-$tag.err")
    achieved=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' <<<"$load")
    stats=$(grep "packets captured" "$OUT/teardown-$tag.err" | tail -1)
    captured=$(sed -n 's/.*teardown: \([0-9]*\) packets captured.*/\1/p' <<<"$stats")
    dropped=$(sed -n 's/.*, \([0-9]*\) dropped by kernel.*/\1/p' <<<"$stats")
    open=$(sed -n 's/.*; \([0-9]*\) connections\{0,1\} w.*still open.*/\1/p' <<<"$stats")
    check=$(python3 bench/check_live.py "$OUT/expected-$tag.tsv" "$OUT/summary-$tag.txt" "$PORT" 2>"$OUT/check-$tag.err")
    printf '%-6s %8s %9s %9s %6s %6s  %s\n' "$tag" "${achieved:-?}" "${captured:-?}" "${dropped:-?}" "$lag" "${open:-0}" "$check"
done
echo "logs: $OUT/ (summary-RATE.txt, teardown-RATE.err, expected-RATE.tsv, check-RATE.err)"
