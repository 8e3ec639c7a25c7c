"""Names the redaction used to miss (a sample title, a sign-off on one line, a lower-case own name,
"I'm Dana"), and ordinary words it must not take for names."""

import pytest

from playground.library.privacy_scan import redact, scan


def names(text, known=()):
    return [f.text for f in scan(text, known) if f.type == "NAME"]


@pytest.mark.parametrize("text, known, name", [
    ("Letter to Maria", (), "Maria"),
    ("A note for my sister Anneliese about the flat", (), "Anneliese"),
    ("See you on Friday.\n\nWarm wishes, Jonas", (), "Jonas"),
    ("Thanks for everything. Best wishes, Jonas Berg", (), "Jonas Berg"),
    ("Kind regards — Priya", (), "Priya"),
    ("ok so dana here, running late again", ("Dana Whitfield",), "dana"),
    ("DANA WHITFIELD, reporting for duty", ("Dana Whitfield",), "DANA WHITFIELD"),
    ("Hi all, I'm Dana and I run the Tuesday choir.", (), "Dana"),
    ("Hello, I’m Dana.", (), "Dana"),
    ("Hey everyone, this is Tomasz from accounts.", (), "Tomasz"),
])
def test_the_names_that_used_to_slip_through_are_found(text, known, name):
    assert name in names(text, known), (text, names(text, known))
    assert name not in redact(text, scan(text, known))


@pytest.mark.parametrize("text", [
    "I'm not sure this is right, and I'm happy either way.",
    "Best of all, the tide was out. Thanks, everyone!",
    "I'm Sorry to say it is done. It's Monday.",
    "A letter to the editor about the harbour.",
])
def test_ordinary_words_after_the_new_cues_are_not_names(text):
    assert names(text) == [], names(text)
