#!/bin/sh
# What `teardown trace` costs a request-heavy program (docs/trace.md): requests per second of a
# small HTTP server under a load loop on loopback, plain, under bare strace (teardown's flags),
# and under `teardown trace`; the median of RUNS runs of each. Root; runs in a network namespace
# of its own (unshare -n), so the traffic is the benchmark's alone.
#
#   sudo bench/trace_overhead.sh [TEARDOWN] [REQUESTS] [RUNS]
#
# MODES="plain strace-y strace trace" (the default) chooses what runs: strace-y is strace with
# -y instead of -yy (descriptors named, sockets not resolved to their addresses), to show what
# -yy's socket lookups cost.
# Servers: bench/trace_server.c (a tiny C server: accept, read, write, close) and
# bench/trace_http_server.py (python3 -m http.server's handler). The load (bench/trace_load.py)
# makes REQUESTS sequential HTTP/1.0 requests, each on a new connection, and prints their rate.
set -eu
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-.build/release/teardown}")
N=${2:-2000}
RUNS=${3:-5}
MODES=${MODES:-plain strace-y strace trace}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -o "$TMP/server" bench/trace_server.c
SYSCALLS=socket,connect,accept,accept4,bind,listen,setsockopt,getsockopt,shutdown,close,read,write,readv,writev,recvfrom,sendto,recvmsg,sendmsg,sendfile,splice,poll,ppoll,epoll_ctl,epoll_wait,epoll_pwait,epoll_pwait2,dup,dup2,dup3,clone,clone3,fork,vfork,execve,execveat
export BIN N RUNS MODES TMP SYSCALLS
unshare -n sh -eu <<'INNER'
ip link set lo up
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() {   # one MODE SERVER...: starts the server as MODE says, runs the load, prints its rate
    mode=$1; shift
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
    case $mode in
        plain) "$@" $port $((N + 1)) & ;;
        strace-y) strace -f -y -q --absolute-timestamps=format:unix,precision:ns --syscall-times=ns -e trace=$SYSCALLS \
                    -o "$TMP/strace.txt" -- "$@" $port $((N + 1)) & ;;
        strace) strace -f -yy -q --absolute-timestamps=format:unix,precision:ns --syscall-times=ns -e trace=$SYSCALLS \
                    -o "$TMP/strace.txt" -- "$@" $port $((N + 1)) & ;;
        trace) "$BIN" trace -i lo --summary -- "$@" $port $((N + 1)) >"$TMP/trace.out" 2>"$TMP/trace.err" & ;;
    esac
    rate=$(python3 bench/trace_load.py $port $N)
    start=$(date +%s.%N)
    wait $!
    end=$(date +%s.%N)
    echo "$rate $(echo "$end - $start" | bc)"
}
for server in "$TMP/server" "python3 bench/trace_http_server.py"; do
    for mode in $MODES; do
        rates=""; posts=""
        for r in $(seq "$RUNS"); do
            set -- $(one $mode $server)
            rates="$rates $1"; posts="$posts $2"
        done
        echo "$(basename "${server%% *}") ${server#* } $mode: median $(echo $rates | tr ' ' '\n' | median) requests/s (runs:$rates); after the load: median $(echo $posts | tr ' ' '\n' | median) s"
    done
done
INNER
