"""The inspector's line about earlier turns left out of the history (components.inspector.history_excluded_text)."""

from components.inspector import history_excluded_text


def test_the_inspector_names_each_left_out_turn_with_its_reason_and_counts_the_rest():
    assert history_excluded_text({"history_excluded": []}) == ""
    one = history_excluded_text({"history_excluded": [
        {"turn": 1, "mode": "user", "reason": "asked under user: global mode sees no personal data"}],
        "history_excluded_total": 1})
    assert one == ("Left out of the history: 1 earlier turn: turn 1 (asked under user: global mode sees no personal "
                   "data).")
    many = history_excluded_text({"history_excluded": [{"turn": n, "reason": "r"} for n in range(5, 25)],
                                  "history_excluded_total": 24})
    assert many.startswith("Left out of the history: 24 earlier turns (the 20 latest are listed): turn 5 (r);")
