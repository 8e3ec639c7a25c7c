"""Shared helpers for the benchmarks: percentiles, timing, a fresh Playground, the Federalist text."""

from __future__ import annotations

import atexit
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FEDERALIST = ROOT / "playground" / "data" / "federalist" / "federalist.jsonl"


def federalist() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FEDERALIST.read_text().splitlines() if line.strip()]


def p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def fresh_playground(**overrides: Any):
    from playground import Playground, Settings

    tmp = tempfile.mkdtemp(prefix="bench-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # a benchmark leaves no data folder behind
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": tmp, **overrides})
    return Playground(settings)


Target = tuple[str, float]  # ("≤", x) or ("≥", x) on the ratio measured / baseline: at_most(x), at_least(x)


def at_most(x: float) -> Target:
    return ("≤", x)


def at_least(x: float) -> Target:
    return ("≥", x)


def _verdict(what: str, measured: float, baseline: float, ratio: float, target: Target | None,
             spread: str = "") -> bool | None:
    """Print one row; return whether it met its target (None: no target)."""
    if target is None:
        print(f"  {what}: {measured:.4g} vs baseline {baseline:.4g} → ratio {ratio:.2f}{spread} (no target)")
        return None
    sign, bound = target
    passed = ratio <= bound if sign == "≤" else ratio >= bound
    print(f"  {what}: {measured:.4g} vs baseline {baseline:.4g} → ratio {ratio:.2f}{spread} (target {sign} {bound}) "
          f"{'PASS' if passed else 'MISS'}")
    return passed


def report(name: str, rows: list[tuple[str, float, float, Target | None]]) -> None:
    """rows: (what, measured, baseline, target or None for information) — ratio = measured / baseline; a target is
    ``at_most(x)`` or ``at_least(x)``."""
    print(f"\n{name} — {machine()}")
    ok = True
    for what, measured, baseline, target in rows:
        ratio = measured / baseline if baseline else float("inf")
        ok &= _verdict(what, measured, baseline, ratio, target) is not False
    print("  all targets met" if ok else "  some targets missed")


def report_repeated(name: str, rows: list[tuple[str, list[tuple[float, float]], Target | None]]) -> None:
    """Like ``report`` for repeated measurements. rows: (what, [(measured, baseline) per repetition, each pair
    measured back to back], target or None). Prints every repetition, then one ``report``-style line with the
    medians of measured and baseline and the **median of the per-repetition ratios** (judged against the target),
    followed by the min–max of those ratios."""
    print(f"\n{name} — {machine()}")
    ok = True
    for what, pairs, target in rows:
        ratios = [m / b if b else float("inf") for m, b in pairs]
        for n, ((m, b), r) in enumerate(zip(pairs, ratios), 1):
            print(f"    repetition {n}: {m:.4g} vs {b:.4g} → {r:.2f}")
        spread = f" [min–max {min(ratios):.2f}–{max(ratios):.2f} over {len(ratios)}]"
        ok &= _verdict(f"{what} (median)", statistics.median(m for m, _ in pairs),
                       statistics.median(b for _, b in pairs), statistics.median(ratios), target, spread) is not False
    print("  all targets met" if ok else "  some targets missed")


__all__ = ["statistics"]
