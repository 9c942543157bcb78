#!/usr/bin/env python3
"""Compare teardown's classification with the generator's truth.

    bench/check_truth.py CAPTURE.pcap.truth.tsv RECORDS.jsonl     (RECORDS "-" = stdin)

RECORDS is the output of `teardown replay CAPTURE --format json --no-events`: JSON Lines,
one object per connection, with orig.addr, orig.port, resp.addr, resp.port, teardown,
closed_by, conn_state and half_close (nested objects or flat dotted keys both work).

A connection agrees when exactly one record has its 4-tuple in the same orientation
(originator = the SYN sender) and all four fields equal the truth. Addresses are compared
as addresses (2001:db8::1 == 2001:0db8::0001). Prints the agreement, the field-by-field
mismatch counts, what each wrong ending was taken for, records that match no connection,
and the first disagreements. Exit status 0 only on 100% agreement with no extra records.
"""

import argparse
import collections
import ipaddress
import json
import sys

FIELDS = ("teardown", "closed_by", "conn_state", "half_close")


def norm_addr(a):
    try:
        return str(ipaddress.ip_address(str(a)))
    except ValueError:
        return str(a)


def field(rec, side, key):
    v = rec.get(side)
    if isinstance(v, dict) and key in v:
        return v[key]
    return rec.get(f"{side}.{key}")


def norm_value(name, v):
    if name == "closed_by":
        return "-" if v in (None, "", "-") else str(v)
    if name == "half_close":
        if isinstance(v, bool):
            return "true" if v else "false"
        return "(missing)" if v is None else str(v).lower()
    return "(missing)" if v is None else str(v)


def read_truth(path):
    truth = {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            row = line.rstrip("\n").split("\t")
            if len(row) < len(header):
                continue
            key = (norm_addr(row[col["orig_addr"]]), int(row[col["orig_port"]]),
                   norm_addr(row[col["resp_addr"]]), int(row[col["resp_port"]]))
            truth[key] = {name: row[col[name]] for name in FIELDS}
            truth[key]["scenario"] = row[col["scenario"]] if "scenario" in col else ""
    return truth


def read_records(path):
    f = sys.stdin if path == "-" else open(path)
    records, bad = [], 0
    with f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                key = (norm_addr(field(rec, "orig", "addr")), int(field(rec, "orig", "port")),
                       norm_addr(field(rec, "resp", "addr")), int(field(rec, "resp", "port")))
            except (ValueError, TypeError) as e:
                bad += 1
                if bad <= 3:
                    print(f"line {n}: cannot read a connection record: {e}", file=sys.stderr)
                continue
            records.append((key, {name: norm_value(name, rec.get(name)) for name in FIELDS}))
    return records, bad


def fmt(d):
    return " ".join(f"{k}={d[k]}" for k in FIELDS)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("truth")
    ap.add_argument("records")
    ap.add_argument("--show", type=int, default=10, help="disagreements to print (default 10)")
    a = ap.parse_args(argv)

    truth = read_truth(a.truth)
    records, unreadable = read_records(a.records)

    by_key = collections.defaultdict(list)
    for key, rec in records:
        by_key[key].append(rec)

    agree = 0
    field_miss = collections.Counter()
    confusion = collections.Counter()
    problems = []   # (kind, key, text)
    swapped = missing = duplicated = 0
    for key, want in truth.items():
        got = by_key.get(key)
        if not got:
            rkey = (key[2], key[3], key[0], key[1])
            if rkey in by_key:
                swapped += 1
                problems.append(("swapped", key, f"reported with originator and responder swapped ({want['scenario']})"))
            else:
                missing += 1
                problems.append(("missing", key, f"no record ({want['scenario']})"))
            confusion[(want["scenario"] or want["teardown"], "no record")] += 1
            continue
        if len(got) > 1:
            duplicated += 1
            problems.append(("split", key, f"{len(got)} records for one connection ({want['scenario']}): "
                             + " | ".join(fmt(g) for g in got)))
            confusion[(want["scenario"] or want["teardown"], f"{len(got)} records")] += 1
            continue
        g = got[0]
        wrong = [f for f in FIELDS if g[f] != want[f]]
        if not wrong:
            agree += 1
            continue
        for f in wrong:
            field_miss[f] += 1
        confusion[(want["scenario"] or want["teardown"],
                   " ".join(f"{f} {want[f]}->{g[f]}" for f in wrong))] += 1
        problems.append(("wrong", key, f"{want['scenario']}: want {fmt(want)}; got "
                         + " ".join(f"{f}={g[f]}" for f in wrong)))

    extra_keys = [k for k in by_key if k not in truth and (k[2], k[3], k[0], k[1]) not in truth]
    extra = sum(len(by_key[k]) for k in extra_keys)

    total = len(truth)
    pct = 100.0 * agree / total if total else 0.0
    print(f"agreement: {agree}/{total} connections ({pct:.3f}%)")
    print(f"records read: {len(records)}" + (f" ({unreadable} unreadable lines)" if unreadable else ""))
    if missing or swapped or duplicated or extra:
        print(f"missing: {missing}  orientation swapped: {swapped}  split into several records: {duplicated}"
              f"  records matching no connection: {extra}")
    if field_miss:
        print("mismatches by field: " + ", ".join(f"{f} {field_miss[f]}" for f in FIELDS if field_miss[f]))
    if confusion:
        print("disagreements by generated scenario (count, scenario: what differed):")
        for (w, g), c in confusion.most_common(15):
            print(f"  {c:7d}  {w}: {g}")
    if problems:
        print(f"first {min(a.show, len(problems))} disagreements:")
        for kind, key, text in problems[:a.show]:
            print(f"  {key[0]}:{key[1]} -> {key[2]}:{key[3]}  [{kind}] {text}")
    if extra_keys:
        print("first records matching no connection:")
        for k in extra_keys[:5]:
            print(f"  {k[0]}:{k[1]} -> {k[2]}:{k[3]}  {fmt(by_key[k][0])}")
    return 0 if agree == total and extra == 0 and unreadable == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
