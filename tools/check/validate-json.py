#!/usr/bin/env python3
"""Validates JSON Lines (files, or standard input) against a JSON Schema (draft 2020-12).

Usage: tools/check/validate-json.py SCHEMA [FILE.jsonl ...]
Prints one line per invalid record (file:line: path: message) and exits 1 if any, 0 if all
are valid; 2 when the schema itself is invalid or the jsonschema package is missing.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("validate-json: the python3 jsonschema package is missing (Debian: python3-jsonschema)", file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"validate-json: {argv[1]}: not a valid schema: {e.message}", file=sys.stderr)
        return 2
    validator = cls(schema)
    inputs = [(p, open(p, encoding="utf-8")) for p in argv[2:]] or [("<stdin>", sys.stdin)]
    bad = records = 0
    for name, stream in inputs:
        for n, line in enumerate(stream, 1):
            if not line.strip():
                continue
            records += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{name}:{n}: not JSON: {e}")
                bad += 1
                continue
            errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
            for e in errors[:5]:
                path = "/".join(str(p) for p in e.absolute_path) or "(record)"
                print(f"{name}:{n}: {path}: {e.message[:300]}")
            bad += 1 if errors else 0
    print(f"{records} records, {bad} invalid", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
