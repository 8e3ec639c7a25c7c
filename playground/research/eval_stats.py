"""Confidence intervals for evaluation tables: a percentile bootstrap over items, and a paired bootstrap for the
difference between two conditions on the same items (user vs global), so a published number says how sure it is."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def bootstrap_ci(values: Sequence[float], *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
                 ) -> tuple[float, float, float] | None:
    """(mean, low, high) of the mean, resampling items with replacement; None for no values."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(x.mean()), float(lo), float(hi)


def paired_difference(a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> dict[str, Any] | None:
    """Mean of a - b over paired items with a bootstrap interval, and how many items a wins, loses and ties."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or x.size != y.size:
        return None
    ci = bootstrap_ci(x - y, n_boot=n_boot, level=level, seed=seed)
    assert ci is not None
    return {"mean_difference": round(ci[0], 4), "ci95": [round(ci[1], 4), round(ci[2], 4)], "n": int(x.size),
            "wins": int((x > y).sum()), "losses": int((x < y).sum()), "ties": int((x == y).sum()),
            "interval_excludes_zero": bool(ci[1] > 0 or ci[2] < 0)}


def condition_table(rows: Sequence[Any], conditions: Sequence[str], metrics: Sequence[str]) -> dict[str, Any]:
    """Per condition and metric: mean with a 95% bootstrap interval over the rows that have an output."""
    out: dict[str, Any] = {}
    for cond in conditions:
        got = [r for r in rows if r.condition == cond and not r.error]
        entry: dict[str, Any] = {"n": len(got), "errors": sum(1 for r in rows if r.condition == cond and r.error)}
        for m in metrics:
            ci = bootstrap_ci([getattr(r, m) for r in got if getattr(r, m) is not None])
            entry[m] = None if ci is None else {"mean": round(ci[0], 4), "ci95": [round(ci[1], 4), round(ci[2], 4)]}
        out[cond] = entry
    return out


def paired_table(rows: Sequence[Any], a: str, b: str, metrics: Sequence[str]) -> dict[str, Any]:
    """a vs b on the items both answered, per metric."""
    by_item: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if not r.error:
            by_item.setdefault((r.sample_id, r.task), {})[r.condition] = r
    pairs = [(v[a], v[b]) for v in by_item.values() if a in v and b in v]
    out = {}
    for m in metrics:  # a metric may be missing (None) on some rows, e.g. attribution with a single author
        got = [(getattr(x, m), getattr(y, m)) for x, y in pairs if getattr(x, m) is not None and getattr(y, m) is not None]
        out[m] = paired_difference([x for x, _ in got], [y for _, y in got])
    return out


def evaluation_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The Evaluate page's items as CSV (every column but the messages sent), safe to open in a spreadsheet."""
    from playground.research.csv_safe import write_csv

    if not rows:
        return ""
    return write_csv(rows, [f for f in rows[0] if f != "messages"])
