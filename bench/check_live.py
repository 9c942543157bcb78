#!/usr/bin/env python3
"""Compare `teardown live --summary` output with what bench/live_load made.

usage: check_live.py EXPECTED.tsv SUMMARY.txt SERVER_PORT

EXPECTED.tsv (from live_load): client_port teardown closed_by, one line per connection, in the
order they were made. A client port can be used again (after TIME-WAIT), so connections are
matched per client port, in order. Prints one line: made, reported, right, wrong, missing,
extra, and the first few disagreements on stderr.
"""
import re
import sys
from collections import defaultdict, deque

# Summary columns: # teardown by state history packets bytes bytes duration client ⇄ server
LINE = re.compile(r"^\s*\d+\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+\s+"
                  r"(\S+):(\d+) ⇄ (\S+):(\d+)")


def main():
    expected_path, summary_path, server_port = sys.argv[1], sys.argv[2], sys.argv[3]
    expected = defaultdict(deque)
    made = 0
    with open(expected_path) as f:
        for line in f:
            port, teardown, by = line.split()
            expected[port].append((teardown, by))
            made += 1
    reported = right = wrong = extra = 0
    shown = 0
    with open(summary_path, encoding="utf-8") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            teardown, by, _, cport, _, sport = m.groups()
            if sport != server_port:
                continue
            reported += 1
            queue = expected.get(cport)
            if not queue:
                extra += 1
                if shown < 5:
                    print(f"  extra: {line.rstrip()}", file=sys.stderr)
                    shown += 1
                continue
            want = queue.popleft()
            if (teardown, by) == want:
                right += 1
            else:
                wrong += 1
                if shown < 5:
                    print(f"  port {cport}: expected {want[0]}/{want[1]}, got {teardown}/{by}", file=sys.stderr)
                    shown += 1
    missing = sum(len(q) for q in expected.values())
    pct = 100.0 * right / made if made else 0.0
    print(f"made {made} reported {reported} right {right} ({pct:.2f}%) wrong {wrong} missing {missing} extra {extra}")


if __name__ == "__main__":
    main()
