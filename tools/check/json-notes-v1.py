#!/usr/bin/env python3
"""Compares two output folders made by tools/check/outputs.sh across the JSON schema change
from version 1 to 2 (notes became {"code", "text"} objects).

Usage: tools/check/json-notes-v1.py BASE_DIR NEW_DIR

Every file must be byte-identical once its JSON lines (the lines that begin
{"schema_version":2, in whatever mode made them) are mapped back: each note object
{"code":"…","text":"…"} becomes its text, a note event's "code" is dropped, and
"schema_version":2 becomes 1. Other lines (timelines, summaries, messages) are compared as
they are.
Exits 0 and prints IDENTICAL when all match; prints each differing file and exits 1 otherwise.
"""
import os
import re
import sys

# Note words hold no quote, backslash or control character (Render writes them so), but the
# pattern accepts any JSON string to stay exact.
STRING = r'"(?:[^"\\]|\\.)*"'
NOTE_OBJECT = re.compile(r'\{"code":"[a-z0-9-]+","text":(' + STRING + r')\}')
NOTE_EVENT_CODE = re.compile(r'"code":"[a-z0-9-]+",("text":)')
V2 = b'{"schema_version":2'


def line_to_v1(line: bytes) -> bytes:
    if not line.startswith(V2):
        return line
    text = line.decode("utf-8", errors="surrogateescape")
    text = '{"schema_version":1' + text[len(V2):]
    text = NOTE_OBJECT.sub(r"\1", text)
    text = NOTE_EVENT_CODE.sub(r"\1", text)
    return text.encode("utf-8", errors="surrogateescape")


def to_v1(data: bytes) -> bytes:
    return b"".join(line_to_v1(line) for line in data.splitlines(keepends=True))


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    base, new = sys.argv[1], sys.argv[2]
    names = sorted(set(os.listdir(base)) | set(os.listdir(new)))
    bad = 0
    for name in names:
        a, b = os.path.join(base, name), os.path.join(new, name)
        if not (os.path.isfile(a) and os.path.isfile(b)):
            print(f"only in one folder: {name}")
            bad += 1
            continue
        with open(a, "rb") as f:
            old = f.read()
        with open(b, "rb") as f:
            cur = f.read()
        cur = to_v1(cur)
        if old != cur:
            print(f"differs: {name}")
            bad += 1
    if bad:
        print(f"{bad} of {len(names)} files differ")
        return 1
    print(f"IDENTICAL ({len(names)} files; JSON lines compared as schema 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
