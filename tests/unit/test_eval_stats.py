"""Confidence intervals published with evaluation tables: checked against values computed by hand."""

from types import SimpleNamespace

from playground.research.eval_stats import bootstrap_ci, condition_table, paired_difference, paired_table


def test_bootstrap_interval_brackets_the_mean_and_collapses_for_constant_values():
    mean, lo, hi = bootstrap_ci([0.1, 0.2, 0.3, 0.4, 0.5])
    assert mean == 0.3 and lo < 0.3 < hi and 0.1 <= lo and hi <= 0.5
    assert bootstrap_ci([0.25] * 8) == (0.25, 0.25, 0.25)
    assert bootstrap_ci([]) is None


def test_paired_difference_counts_wins_and_says_when_the_interval_excludes_zero():
    d = paired_difference([0.5, 0.6, 0.7, 0.8], [0.1, 0.2, 0.3, 0.4])
    assert d["mean_difference"] == 0.4 and d["wins"] == 4 and d["losses"] == 0 and d["interval_excludes_zero"]
    even = paired_difference([0.1, 0.3], [0.3, 0.1])
    assert even["mean_difference"] == 0.0 and even["wins"] == 1 and even["losses"] == 1
    assert not even["interval_excludes_zero"]


def test_tables_pair_rows_by_item_and_leave_out_failed_generations():
    row = lambda item, cond, v, err="": SimpleNamespace(sample_id=item, task="t", condition=cond, rouge1=v,  # noqa
                                                          error=err)
    rows = [row("a", "user", 0.4), row("a", "global", 0.2), row("b", "user", 0.3), row("b", "global", 0.3),
            row("c", "user", 0.9), row("c", "global", 0.0, err="model failed")]
    table = condition_table(rows, ["user", "global"], ["rouge1"])
    assert table["user"]["n"] == 3 and table["global"]["n"] == 2 and table["global"]["errors"] == 1
    paired = paired_table(rows, "user", "global", ["rouge1"])["rouge1"]
    assert paired["n"] == 2 and paired["wins"] == 1 and paired["ties"] == 1 and paired["mean_difference"] == 0.1
