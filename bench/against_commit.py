"""Before/after in the same run: a benchmark script run alternately on an earlier commit and on this checkout.

The earlier commit is checked out into a temporary git worktree (removed afterwards) and both run with this
interpreter, taking turns round by round so both see the same neighbours on a shared machine. Every line a
benchmark prints as ``name: p50 12.3 ms`` is collected; the ratio is this checkout's p50 over the earlier one's,
per round, reported as the median and its min–max. Target: ≤ 1.10 (no regression beyond noise).

    .venv/bin/python bench/against_commit.py 23874e2 --rounds 3 -- bench/turn_overhead.py --turns 60
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, machine

LINE = re.compile(r"^(\w[\w -]*): p50 ([\d.]+) ms", re.M)


def run(tree: Path, script: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, *script], cwd=tree, capture_output=True, text=True, check=True).stdout
    return {name: float(value) for name, value in LINE.findall(out)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rev", help="the earlier commit")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--target", type=float, default=1.10)
    argv = sys.argv[1:]
    if "--" not in argv:
        ap.error("give the benchmark after --, e.g. -- bench/turn_overhead.py --turns 60")
    split = argv.index("--")
    args, script = ap.parse_args(argv[:split]), argv[split + 1:]
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        before = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(before), args.rev], check=True)
        try:
            rounds = []
            for r in range(args.rounds):
                pair = {}
                for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
                    pair[side] = run(before if side == "before" else ROOT, script)
                rounds.append(pair)
                print(f"round {r + 1}: " + "; ".join(
                    f"{k} {pair['before'][k]:.2f} → {pair['after'].get(k, float('nan')):.2f} ms" for k in pair["before"]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
    print(f"\n{' '.join(script)}: {args.rev} vs this checkout, {args.rounds} rounds — {machine()}")
    ok = True
    for key in rounds[0]["before"]:
        ratios = [p["after"][key] / p["before"][key] for p in rounds if key in p["after"] and p["before"][key]]
        med = statistics.median(ratios)
        ok &= med <= args.target
        print(f"  {key} p50, after ÷ before: {med:.2f} [{min(ratios):.2f}–{max(ratios):.2f}] "
              f"(target ≤ {args.target}) {'PASS' if med <= args.target else 'MISS'}")
    print("  all targets met" if ok else "  some targets missed")


if __name__ == "__main__":
    main()
