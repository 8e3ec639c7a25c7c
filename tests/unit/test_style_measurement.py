"""Unit tier: the style card's measurements, its plain-language lines with evidence, the style distance,
and the trained attribution protocol (a model that memorised its test documents would fail the random-label test)."""

import random

import pytest

from playground.research.stylecard import card_from_texts, compare, measure, reference, style_distance

CHATTY = ["omg lol i cant believe it!! so tired rn. gonna sleep haha. u coming tmrw?? lol ok bye :)",
          "ugh monday lol. missed the bus AGAIN. coffee pls!! idk what im doing today haha :D",
          "yay pizza night!!! best. day. ever. lol ttyl"]
FORMAL = ["The proposed constitution, in its present form, establishes a government whose powers, although "
          "considerable, are nevertheless limited by the enumeration of particular objects; and it is to this "
          "enumeration, rather than to any general grant of authority, that we must look for the boundaries of "
          "federal jurisdiction, which the several states have every reason to preserve with vigilance.",
          "It has frequently been remarked that the administration of a government ought to be judged by its "
          "tendency to produce good administration; nevertheless, the experience of the confederation demonstrates "
          "that institutions deprived of adequate energy cannot accomplish the objects for which they were created."]


def test_measure_counts_habits_a_person_could_check_by_hand():
    s = measure(["i love it!! lol. You know?", "We went home. It's late :)"])
    assert s["words"] == 11
    assert s["words_per_sentence"] == pytest.approx(11 / 5)
    assert s["exclamations"] == pytest.approx(100 * 2 / 5) and s["questions"] == pytest.approx(100 / 5)
    assert s["lowercase_starts"] == pytest.approx(100 * 2 / 5)  # "i love it!!" and "lol."
    assert s["slang"] == pytest.approx(100 / 11) and s["examples"]["slang"] == ["lol"]
    assert s["emoji"] == pytest.approx(100 / 11) and s["examples"]["emoji"] == [":)"]
    assert s["contractions"] == pytest.approx(100 / 11)
    assert s["first_singular"] == pytest.approx(100 / 11) and s["first_plural"] == pytest.approx(100 / 11)


def test_chatty_writing_gets_lower_case_exclamation_and_slang_lines_with_evidence():
    card = card_from_texts(CHATTY)
    text = card["text"]
    for expected in ("lower case", "many exclamation marks", "slang: “lol”", "emoji and emoticons: :)"):
        assert expected in text, text
    assert compare(measure(CHATTY))["words_per_sentence"]["z"] <= -1, "short sentences, measured"
    assert "formal" not in text.replace("informal", "")
    for line in card["lines"]:
        assert any(ch.isdigit() for ch in line["evidence"]) and "sd" in line["evidence"]
    by_feature = {x["feature"]: x for x in card["lines"]}
    if "exclamations" in by_feature:
        assert by_feature["exclamations"]["value"] > by_feature["exclamations"]["reference_mean"]


def test_formal_writing_gets_long_sentences_and_no_slang_lines():
    text = card_from_texts(FORMAL)["text"]
    assert "long sentences" in text and "slang" not in text and "lower case" not in text


def test_too_little_writing_makes_no_claims():
    card = card_from_texts(["Hi there."])
    assert card["lines"] == [] and "No habit stands out" in card["text"]


def test_style_distance_is_zero_for_the_same_habits_and_larger_across_registers():
    chatty, chatty2, formal = measure(CHATTY[:1]), measure(CHATTY[1:2]), measure(FORMAL)
    assert style_distance(chatty, chatty) == 0
    assert style_distance(chatty, formal) > 1.5 * style_distance(chatty, chatty2) > 0


def test_the_shipped_reference_covers_every_measured_habit_with_many_writers():
    ref = reference()
    assert len(ref["writers"]) >= 15
    assert set(ref["stats"]) == {k for k in measure(["x y z."]) if k not in ("words", "examples")}
    assert all(v["sd"] > 0 for v in ref["stats"].values())


def test_trained_attribution_is_not_scored_on_documents_it_saw():
    """Random labels on random texts: a model scored on documents it was trained on would memorise them (≈1.0);
    honest k-fold gives about chance (0.5)."""
    from playground.research.trained_attribution import cross_validated_predictions

    rng = random.Random(13)
    vocab = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(vocab) for _ in range(60)) + "." for _ in range(60)]
    authors = [rng.choice("AB") for _ in texts]
    guesses, folds = cross_validated_predictions(texts, authors, folds=5)
    accuracy = sum(g == a for g, a in zip(guesses, authors)) / len(texts)
    assert folds == 5 and accuracy < 0.75


def test_trained_attribution_learns_habits_that_separate_two_writers():
    from playground.research.trained_attribution import cross_validated_predictions, explain

    texts = CHATTY[:3] * 2 + [f + " Indeed." for f in FORMAL] * 3
    authors = ["kid"] * 6 + ["judge"] * 6
    guesses, folds = cross_validated_predictions(texts, authors, folds=3)
    assert folds == 3 and guesses == authors
    why = explain(texts, authors)
    assert why["kid"]["ngrams"] and all(g["weight"] > 0 for g in why["kid"]["ngrams"])
    marks = {r["feature"]: r for r in why["kid"]["punctuation"]}
    assert marks["!"]["log2_ratio"] > 0 and marks["!"]["this person"] > marks["!"]["others"]
