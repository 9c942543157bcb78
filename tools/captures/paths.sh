#!/usr/bin/env bash
# Recordings of RSTs that the path sends (issue 16, docs/diagnoses.md): a client and a server in
# network namespaces of their own with a router namespace between them (10.1.0.0/24 on the
# client's side, 10.2.0.0/24 on the server's), captured on the client's link, so the server's
# segments arrive one hop away (TTL 63) and whatever the router sends arrives with TTL 64.
#
#   sudo tools/captures/paths.sh [OUTDIR [NAME...]]   # default captures/paths
#
# With NAMEs, only those recordings are made (the others in OUTDIR are left as they are).
#
#   middlebox-reset.pcap  after three request/response exchanges the router starts rejecting
#                         the flow (nftables `tcp dport 8080 reject with tcp reset`); the
#                         client's next request draws the router's RST in the server's name
#   conntrack-idle.pcap   the router tracks connections (conntrack, an established timeout of
#                         5 s, nf_conntrack_tcp_loose=0) and rejects what it does not know
#                         (`ct state invalid reject with tcp reset`); the client is silent for
#                         12 s, and its next request draws the router's RST
#   conntrack-keepalive.pcap  the same conntrack router; the client's socket has SO_KEEPALIVE
#                         with TCP_KEEPIDLE 11 s (TCP_KEEPINTVL 1 s, TCP_KEEPCNT 3), longer
#                         than conntrack's 5 s: the client waits for data, its first keep-alive
#                         probe (after 11 s of silence) is invalid to the router, and draws its RST
#   conntrack-drop.pcap   the same router, dropping what it does not know (`ct state invalid
#                         drop`); the client (TCP_USER_TIMEOUT 3 s) is silent for 12 s, then its
#                         request is retransmitted into nothing until its TCP gives up
#                         (ETIMEDOUT, no RST)
#   own-reset.pcap        the negative case: the same path, no rule; the server aborts itself
#                         (SO_LINGER {1, 0}) after the third exchange: its RST has its TTL
#
# Needs root, ip, nft, tcpdump, tshark and python3. Namespaces are named tdpath-PID-*, removed at exit.
set -euo pipefail
out=${1:-captures/paths}
shift || true
only=" $* "
mkdir -p "$out"
# want NAME: NAME is to be recorded (every one when no NAME was given).
want() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
P=tdpath-$$
C=$P-c; R=$P-r; S=$P-s
cleanup() { for n in $C $R $S; do ip netns del "$n" 2>/dev/null || true; done; }
trap cleanup EXIT

setup() {
  cleanup
  ip netns add $C; ip netns add $R; ip netns add $S
  ip link add vc netns $C type veth peer name vrc netns $R
  ip link add vs netns $S type veth peer name vrs netns $R
  ip -n $C addr add 10.1.0.2/24 dev vc; ip -n $C link set vc up; ip -n $C link set lo up
  ip -n $R addr add 10.1.0.1/24 dev vrc; ip -n $R link set vrc up
  ip -n $R addr add 10.2.0.1/24 dev vrs; ip -n $R link set vrs up; ip -n $R link set lo up
  ip -n $S addr add 10.2.0.2/24 dev vs; ip -n $S link set vs up; ip -n $S link set lo up
  ip -n $C route add default via 10.1.0.1
  ip -n $S route add default via 10.2.0.1
  # No offloads: the capture shows segments as they are on the wire.
  for ns_dev in "$C vc" "$S vs" "$R vrc" "$R vrs"; do
    set -- $ns_dev; ip netns exec "$1" ethtool -K "$2" tso off gso off gro off 2>/dev/null || true
  done
  ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
  ip netns exec $R nft add table inet path
  ip netns exec $R nft add chain inet path fw '{ type filter hook forward priority 0; }'
}

# record NAME SERVER_ABORTS SILENCE_S RULE [CLIENT]: the exchange, captured on the client's
# link. CLIENT: "keepalive" (SO_KEEPALIVE, TCP_KEEPIDLE SILENCE_S, and the client waits for
# data instead of sending after the silence) or "timeout" (TCP_USER_TIMEOUT 3 s).
record() {
  local name=$1 abort=$2 silence=$3 rule=$4 client=${5:-}
  ip netns exec $C tcpdump -i vc -w "$out/$name.pcap" -U -s 0 'tcp port 8080' 2>/dev/null & local td=$!
  sleep 1
  ip netns exec $S python3 - "$abort" <<'PY' & local sv=$!
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen()
c, _ = s.accept()
n = 0
while True:
    d = c.recv(1000)
    if not d: break
    c.sendall(b"R" * len(d)); n += 1
    if sys.argv[1] == "1" and n == 3:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close(); break
PY
  sleep 0.5
  ip netns exec $C python3 - "$R" "$silence" "$rule" "$client" <<'PY' || true
import socket, subprocess, sys, time
router, silence, rule, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
c = socket.create_connection(("10.2.0.2", 8080))
if mode == "keepalive":
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(silence))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
if mode == "timeout":
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 3000)
for i in range(3):
    c.sendall(b"x" * 100); c.recv(1000); time.sleep(0.1)
if rule:
    subprocess.run(["ip", "netns", "exec", router, "nft", "add", "rule", "inet", "path", "fw"] + rule.split(), check=True)
try:
    if mode == "keepalive":
        c.settimeout(silence + 10); print("client: read", len(c.recv(1000)), "bytes")
    else:
        time.sleep(silence)
        c.sendall(b"y" * 100); print("client: read", len(c.recv(1000)), "bytes")
except OSError as e:
    print("client:", e)
PY
  sleep 1
  kill $sv 2>/dev/null || true
  wait $sv 2>/dev/null || true
  kill $td; wait $td 2>/dev/null || true
}

# check NAME TTL: one RST, from the server's address, with TTL TTL; the server's other segments
# with TTL 63 (one hop). Fails with !!! otherwise.
check() {
  local f="$out/$1.pcap" want=$2
  local rst others
  rst=$(tcpdump -nr "$f" -v 'src host 10.2.0.2 and tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | grep -o 'ttl [0-9]*' | awk '{print $2}' | tr '\n' ' ')
  others=$(tcpdump -nr "$f" -v 'src host 10.2.0.2 and tcp[tcpflags] & tcp-rst == 0' 2>/dev/null | grep -o 'ttl [0-9]*' | awk '{print $2}' | sort -u | tr '\n' ' ')
  if [ "$rst" != "$want " ] || [ "$others" != "63 " ]; then
    echo "!!! $f: RST TTL '$rst' (want $want), the server's other segments '$others' (want 63)" >&2; exit 1
  fi
  echo "$f: the RST in the server's name has TTL $want, the server's segments 63"
}

# check_probe NAME: the segment the RST answered is a keep-alive probe, as tshark judges it
# (tcp.analysis.keep_alive), and the only one.
check_probe() {
  local f="$out/$1.pcap" n
  n=$(tshark -r "$f" -Y tcp.analysis.keep_alive 2>/dev/null | wc -l)
  if [ "$n" != 1 ]; then echo "!!! $f: $n keep-alive probes (want 1)" >&2; exit 1; fi
  echo "$f: tshark sees one keep-alive probe"
}

# check_drop NAME: no RST, the client's segment retransmitted at least three times (tshark's
# tcp.analysis.retransmission), and nothing from the server once the retransmissions began.
check_drop() {
  local f="$out/$1.pcap" rst rtx late
  rst=$(tcpdump -nr "$f" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | wc -l)
  rtx=$(tshark -r "$f" -Y 'tcp.analysis.retransmission && ip.src == 10.1.0.2' 2>/dev/null | wc -l)
  late=$(tshark -r "$f" -T fields -e ip.src -e tcp.analysis.retransmission 2>/dev/null \
    | awk '$2 != "" { r = 1 } r && $1 == "10.2.0.2" { n++ } END { print n + 0 }')
  if [ "$rst" != 0 ] || [ "$rtx" -lt 3 ] || [ "$late" != 0 ]; then
    echo "!!! $f: $rst RSTs (want 0), $rtx retransmissions by the client (want 3 or more), $late segments from the server after them (want 0)" >&2; exit 1
  fi
  echo "$f: no RST, the client's segment retransmitted $rtx times"
}

conntrack_router() {
  ip netns exec $R sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null || true
  ip netns exec $R nft add rule inet path fw ct state invalid "$@"
  ip netns exec $R sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=5
}

if want middlebox-reset; then
  setup
  record middlebox-reset 0 0 "tcp dport 8080 reject with tcp reset"
  check middlebox-reset 64
fi

if want conntrack-idle; then
  setup
  conntrack_router reject with tcp reset
  record conntrack-idle 0 12 ""
  check conntrack-idle 64
fi

if want conntrack-keepalive; then
  setup
  conntrack_router reject with tcp reset
  record conntrack-keepalive 0 11 "" keepalive
  check conntrack-keepalive 64
  check_probe conntrack-keepalive
fi

if want conntrack-drop; then
  setup
  conntrack_router drop
  record conntrack-drop 0 12 "" timeout
  check_drop conntrack-drop
fi

if want own-reset; then
  setup
  record own-reset 1 0 ""
  check own-reset 63
fi
