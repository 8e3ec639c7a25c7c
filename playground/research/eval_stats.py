"""Confidence intervals: the project's one bootstrap (evaluation tables, the bias probe, the judge's kappa), and a
paired bootstrap for the difference between two conditions on the same items (user vs global), so a published number
says how sure it is."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

MIN_BOOTSTRAP = 5
"""The fewest items that get an interval. From fewer, resampling draws from a handful of values (three items allow
only ten different resamples), so the interval is made of the same few numbers and looks precise when it is not:
below this the estimate is reported without an interval (``None``)."""


def bootstrap_ci(items: Sequence[Any], stat: Callable[[list[Any]], float | None] | None = None, *,
                 n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval ``(low, high)`` of ``stat`` over the items.

    ``n_boot`` resamples of ``len(items)`` items drawn with replacement (numpy ``default_rng(seed)``, so a result can
    be reproduced); the interval is the ``(1 - level) / 2`` and ``1 - (1 - level) / 2`` quantiles (linear
    interpolation) of the statistic over the resamples. ``stat`` is the mean unless given; a resample where ``stat``
    is undefined (returns None or NaN, e.g. kappa when both raters used one label) is skipped.

    None, no interval, with fewer than ``MIN_BOOTSTRAP`` items (see there) or when no resample defines ``stat``."""
    n = len(items)
    if n < MIN_BOOTSTRAP:
        return None
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(n_boot, n))
    if stat is None:
        values = np.asarray(items, dtype=float)[picks].mean(axis=1)
    else:
        got = [stat([items[i] for i in row]) for row in picks]
        values = np.asarray([v for v in got if v is not None], dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            return None
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def paired_difference(a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> dict[str, Any] | None:
    """Mean of a - b over paired items with a bootstrap interval, and how many items a wins, loses and ties. With
    fewer than ``MIN_BOOTSTRAP`` pairs ``ci95`` and ``interval_excludes_zero`` are None: no interval to judge by."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or x.size != y.size:
        return None
    ci = bootstrap_ci(x - y, n_boot=n_boot, level=level, seed=seed)
    return {"mean_difference": round(float((x - y).mean()), 4),
            "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)], "n": int(x.size),
            "wins": int((x > y).sum()), "losses": int((x < y).sum()), "ties": int((x == y).sum()),
            "interval_excludes_zero": None if ci is None else bool(ci[0] > 0 or ci[1] < 0)}


def condition_table(rows: Sequence[Any], conditions: Sequence[str], metrics: Sequence[str]) -> dict[str, Any]:
    """Per condition and metric: mean with a 95% bootstrap interval over the rows that have an output (None for a
    metric no row has; ``ci95`` None with fewer than ``MIN_BOOTSTRAP`` values)."""
    out: dict[str, Any] = {}
    for cond in conditions:
        got = [r for r in rows if r.condition == cond and not r.error]
        entry: dict[str, Any] = {"n": len(got), "errors": sum(1 for r in rows if r.condition == cond and r.error)}
        for m in metrics:
            values = [float(getattr(r, m)) for r in got if getattr(r, m) is not None]
            ci = bootstrap_ci(values)
            entry[m] = None if not values else {
                "mean": round(float(np.mean(values)), 4),
                "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)]}
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
