#!/usr/bin/env python3
"""Re-runs every bundled experiment (as root), saves its recording into captures/experiments/,
and replaces the printed run in docs/experiments/NAME.md with the new output, so the recording
and its page always come from the same run. Then regenerates the README's experiments table
(tools/docs/readme.py), whose verdict counts come from those pages.

Usage: sudo python3 tools/captures/record_experiments.py [NAME...]   (after `swift build`)
Afterwards regenerate the replay goldens: TEARDOWN_UPDATE_GOLDENS=1 swift test --filter ReplayGoldenTests
and read the diff before committing.
"""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]
tool = str(root / ".build/debug/teardown")
names = sys.argv[1:] or [l.split()[0] for l in subprocess.run([tool, "scenarios"], capture_output=True, text=True).stdout.splitlines() if l.strip()]
for name in names:
    run = subprocess.run([tool, "run", name, "--save", "captures/experiments", "--no-color"], cwd=root, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{name}: teardown run failed ({run.returncode}): {run.stderr}")
    doc = root / "docs" / "experiments" / f"{name}.md"
    text = doc.read_text()
    blocks = list(re.finditer(r"```\n(.*?)```", text, re.S))
    target = next((b for b in blocks if "━━ experiment" in b.group(1)), None)
    if target is None:
        sys.exit(f"{doc}: no printed run (a code block with '━━ experiment') to replace")
    text = text[:target.start()] + "```\n" + run.stdout.rstrip("\n") + "\n```" + text[target.end():]
    doc.write_text(text)
    print(f"{name}: recorded and documented")
subprocess.run([sys.executable, str(root / "tools/docs/readme.py")], check=True)
