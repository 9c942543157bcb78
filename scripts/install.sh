#!/usr/bin/env bash
# scripts/install.sh: build teardown's release binary and install it, or remove it.
#
#   scripts/install.sh [--prefix DIR] [--setcap] [--binary FILE]   build, install DIR/bin/teardown
#   scripts/install.sh [--prefix DIR] --uninstall                 remove DIR/bin/teardown
#
#   --prefix DIR   where to install (default /usr/local: /usr/local/bin/teardown)
#   --setcap       also grant cap_net_raw,cap_net_admin to the installed binary, so that
#                  `teardown live` can capture without root (the kernel lane and `run` still
#                  need root); needs root and setcap (Debian: libcap2-bin)
#   --binary FILE  install FILE instead of building (what `swift build -c release` made)
#
# Run it as yourself: it builds as you (in .build/ of the clone, as `swift build` does) and
# uses sudo only for the steps that need root (writing into DIR when it is not yours, setcap).
# As root (a root shell, a container without sudo) it does everything itself.
set -euo pipefail

# Runs "$@" as root: directly as root, else through sudo; says so when neither is possible.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "install.sh: $1 needs root, and sudo is not installed: run this as root" >&2; return 1
    fi
}
# Runs "$@" as this user when DIR is writable by it, else as root.
in_prefix() { if [ -w "$1" ]; then shift; "$@"; else shift; as_root "$@"; fi; }

PREFIX=/usr/local SETCAP=no UNINSTALL=no BINARY=""
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --setcap) SETCAP=yes; shift ;;
        --uninstall) UNINSTALL=yes; shift ;;
        --binary) BINARY=${2:?--binary needs a file}; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
target=$PREFIX/bin/teardown

if [ "$UNINSTALL" = yes ]; then
    if [ ! -e "$target" ]; then
        echo "install.sh: $target is not installed; nothing to remove"
        exit 0
    fi
    in_prefix "$PREFIX/bin" rm -f "$target" || { echo "install.sh: cannot remove $target" >&2; exit 1; }
    echo "removed $target"
    exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "$BINARY" ]; then
    command -v swift >/dev/null || { echo "install.sh: swift is not on the PATH (Swift 6 is needed to build)" >&2; exit 1; }
    echo "building the release binary (swift build -c release) ..."
    swift build -c release >&2
    BINARY=$(swift build -c release --show-bin-path)/teardown
fi
[ -x "$BINARY" ] || { echo "install.sh: $BINARY is not an executable" >&2; exit 1; }

parent=$PREFIX/bin
while [ ! -e "$parent" ]; do parent=$(dirname "$parent"); done
if ! in_prefix "$parent" mkdir -p "$PREFIX/bin" || ! in_prefix "$PREFIX/bin" install -m 755 "$BINARY" "$target"; then
    echo "install.sh: cannot write $target" >&2
    exit 1
fi
echo "installed $target"

if [ "$SETCAP" = yes ]; then
    setcap=$(command -v setcap || echo /usr/sbin/setcap)
    [ -x "$setcap" ] || { echo "install.sh: setcap is missing (Debian: apt-get install libcap2-bin)" >&2; exit 1; }
    as_root "$setcap" cap_net_raw,cap_net_admin=eip "$target" \
        || { echo "install.sh: setcap on $target failed" >&2; exit 1; }
    echo "granted cap_net_raw,cap_net_admin to $target: teardown live captures without root"
fi
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "note: $PREFIX/bin is not on your PATH" ;;
esac
