"""Confidence intervals published with evaluation tables (and shown by the probes): checked against values computed
by hand, and the one small-sample rule every caller follows."""

from types import SimpleNamespace

from playground.research.eval_stats import (
    MIN_BOOTSTRAP,
    bootstrap_ci,
    condition_table,
    paired_difference,
    paired_table,
)
from playground.research.probes import metrics


def test_bootstrap_interval_brackets_the_mean_and_collapses_for_constant_values():
    lo, hi = bootstrap_ci([0.1, 0.2, 0.3, 0.4, 0.5])
    assert lo < 0.3 < hi and 0.1 <= lo and hi <= 0.5
    assert bootstrap_ci([0.25] * 8) == (0.25, 0.25)
    assert bootstrap_ci([0.1, 0.2, 0.3, 0.4, 0.5], seed=7) == bootstrap_ci([0.1, 0.2, 0.3, 0.4, 0.5], seed=7)


def test_fewer_than_five_items_get_no_interval_from_any_caller():
    assert MIN_BOOTSTRAP == 5
    four, five = [0.1, 0.9, 0.4, 0.6], [0.1, 0.9, 0.4, 0.6, 0.5]
    assert bootstrap_ci([]) is None and bootstrap_ci(four) is None and bootstrap_ci(five) is not None
    kappa = lambda s: metrics.cohen_kappa([p[0] for p in s], [p[1] for p in s])  # noqa: E731
    assert bootstrap_ci(list(zip("ABAB", "ABBA")), kappa) is None
    # Every caller says "no interval" the same way, and still reports the estimate.
    assert metrics.mean_with_ci(four) == {"mean": 0.5, "ci95": None, "n": 4}
    assert metrics.mean_with_ci(five)["ci95"] is not None
    assert metrics.kappa_with_ci(list(zip("ABAB", "ABBA")))["ci95"] is None
    d = paired_difference(four, [0.0] * 4)
    assert d["mean_difference"] == 0.5 and d["ci95"] is None and d["interval_excludes_zero"] is None
    rows = [SimpleNamespace(condition="user", error="", rouge1=v) for v in four]
    assert condition_table(rows, ["user"], ["rouge1"])["user"]["rouge1"] == {"mean": 0.5, "ci95": None}


def test_resamples_where_the_statistic_is_undefined_are_skipped():
    # kappa is undefined when both raters used one label throughout; every resample here is such a one
    assert bootstrap_ci(list(zip("AAAAA", "AAAAA")), lambda s: metrics.cohen_kappa(*zip(*s))) is None
    lo, hi = bootstrap_ci(list(range(6)), lambda s: None if len(set(s)) < 3 else float(max(s)))
    assert 2.0 <= lo <= hi <= 5.0


def test_paired_difference_counts_wins_and_says_when_the_interval_excludes_zero():
    d = paired_difference([0.5, 0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert d["mean_difference"] == 0.4 and d["wins"] == 5 and d["losses"] == 0 and d["interval_excludes_zero"]
    even = paired_difference([0.1, 0.3, 0.1, 0.3, 0.2], [0.3, 0.1, 0.3, 0.1, 0.2])
    assert even["mean_difference"] == 0.0 and even["wins"] == 2 and even["losses"] == 2 and even["ties"] == 1
    assert even["interval_excludes_zero"] is False


def test_tables_pair_rows_by_item_and_leave_out_failed_generations():
    row = lambda item, cond, v, err="": SimpleNamespace(sample_id=item, task="t", condition=cond, rouge1=v,  # noqa
                                                          error=err)
    rows = [row("a", "user", 0.4), row("a", "global", 0.2), row("b", "user", 0.3), row("b", "global", 0.3),
            row("c", "user", 0.9), row("c", "global", 0.0, err="model failed")]
    table = condition_table(rows, ["user", "global"], ["rouge1"])
    assert table["user"]["n"] == 3 and table["global"]["n"] == 2 and table["global"]["errors"] == 1
    paired = paired_table(rows, "user", "global", ["rouge1"])["rouge1"]
    assert paired["n"] == 2 and paired["wins"] == 1 and paired["ties"] == 1 and paired["mean_difference"] == 0.1
