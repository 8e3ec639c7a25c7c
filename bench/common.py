"""Shared helpers for the benchmarks: percentiles, timing, a fresh Playground, the Federalist text."""

from __future__ import annotations

import json
import platform
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
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": tmp, **overrides})
    return Playground(settings)


def report(name: str, rows: list[tuple[str, float, float, float | None]]) -> None:
    """rows: (what, measured, baseline, target ratio or None for information) — ratio = measured / baseline."""
    print(f"\n{name} — {machine()}")
    ok = True
    for what, measured, baseline, target in rows:
        ratio = measured / baseline if baseline else float("inf")
        if target is None:
            print(f"  {what}: {measured:.4g} vs baseline {baseline:.4g} → ratio {ratio:.2f} (no target)")
            continue
        passed = ratio <= target if target >= 1 else ratio >= target
        ok &= passed
        sign = "≤" if target >= 1 else "≥"
        print(f"  {what}: {measured:.4g} vs baseline {baseline:.4g} → ratio {ratio:.2f} (target {sign} {target}) "
              f"{'PASS' if passed else 'MISS'}")
    print("  all targets met" if ok else "  some targets missed")


__all__ = ["statistics"]
