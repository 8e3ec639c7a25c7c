"""Unit tier: one measurer. The Writing samples page's "Style at a glance" chart and the Profile page's style card
measure the same writing with the same tokenizer and sentence splitter, and show the same numbers under the same
labels: people compare the two screens, and two answers to "how long are my sentences" would make both suspect."""

from types import SimpleNamespace

from components.charts import style_figure
from playground.research.stylecard import FEATURES, card_from_texts, card_texts
from playground.research.stylometry import AT_A_GLANCE, LABELS, mattr, sentences, shown, style_at_a_glance, title, words


def test_the_chart_and_the_style_card_show_the_same_numbers_for_federalist_no_1(federalist):
    text = next(r["text"] for r in federalist if r["paper"] == 1)
    chart = style_at_a_glance([text])  # what pages/2_Writing_samples.py draws for this writing
    card = card_from_texts([text])  # what the Profile page's style card is measured from
    assert list(chart) == [title(f) for f in AT_A_GLANCE]
    for f in AT_A_GLANCE:
        assert chart[title(f)] == shown(card["stats"][f]), f
    assert chart["words per sentence"] == 32.2
    assert chart["distinct words per 100 (moving window)"] == 69.0
    # The card's lines print the same number under the same label.
    evidence = {x["feature"]: x["evidence"] for x in card["lines"]}
    assert {"words_per_sentence", "vocabulary"} <= set(evidence), evidence
    for f in set(evidence) & set(AT_A_GLANCE):
        label, unit = LABELS[f]
        assert evidence[f].startswith(f"{label}: {chart[title(f)]:.1f}{unit} ("), evidence[f]


def test_the_chart_is_headed_with_the_style_cards_labels():
    assert all(FEATURES[f][:2] == LABELS[f] for f in LABELS)
    fig = style_figure([{"who": "Kim", **style_at_a_glance(["Short one. And another, longer one; see?"])}])
    assert [a.text for a in fig.layout.annotations] == [title(f) for f in AT_A_GLANCE]
    assert title("long_words") == "words of 7+ letters (%)"


def test_the_chart_measures_the_samples_the_card_is_measured_from():
    samples = [{"id": f"s{i}", "title": f"t{i}"} for i in range(60)]
    library = SimpleNamespace(recent_samples=lambda pid, most: ("digest", samples[-most:]),
                              sample_text=lambda sid: f"text of {sid}.")
    digest, chosen, texts = card_texts(library, "p1")  # type: ignore[arg-type]
    assert digest == "digest" and len(texts) == 50 and texts[0] == "text of s10." and texts[-1] == "text of s59."


def test_words_and_sentences_are_counted_as_a_person_would_by_hand():
    text = "Dear Kim\nI don't know... Really?! 42 is not a word"
    assert words(text) == ["Dear", "Kim", "I", "don't", "know", "Really", "is", "not", "a", "word"]
    assert sentences(text) == ["Dear Kim", "I don't know...", "Really?!", "42 is not a word"]


def test_distinct_words_per_100_is_the_moving_average_type_token_ratio():
    assert mattr(["a", "b", "a"]) == 100 * 2 / 3, "a short text: its plain type-token ratio"
    # 150 words cycling through 50 distinct ones: every 100-word window holds all 50, so 50 per 100, where the
    # plain type-token ratio of the whole text would say 33.
    cycle = [f"w{i % 50}" for i in range(150)]
    assert mattr(cycle) == 50.0
    fresh = [f"w{i}" for i in range(150)]
    assert mattr(fresh) == 100.0
