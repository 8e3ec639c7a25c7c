"""ROUGE as LaMP scores it: shared stemmed words (ROUGE-1) and their longest common order (ROUGE-L)."""

import pytest

from playground.research.rouge import lcs_length, rouge, tokens


def test_words_are_lower_cased_split_on_punctuation_and_stemmed_past_three_letters():
    assert tokens("The Cats' running-shoes, 42x!") == ["the", "cat", "run", "shoe", "42x"]
    assert tokens("was") == ["was"], "three letters or fewer are left as they are"


def test_rouge1_counts_each_shared_word_at_most_as_often_as_both_texts_hold_it():
    # prediction: the cat sat on the mat (6 words), reference: the cat sat (3): 3 shared, P = 1/2, R = 1
    assert rouge("The cats sat on the mat", "The cat sat")["rouge1"] == pytest.approx(2 / 3)


def test_rougeL_follows_word_order_where_rouge1_does_not():
    scores = rouge("sat the cat", "the cat sat")
    assert scores["rouge1"] == pytest.approx(1.0)
    assert scores["rougeL"] == pytest.approx(2 / 3), "longest common order: 'the cat'"


def test_empty_or_unrelated_texts_score_zero():
    assert rouge("", "the cat") == {"rouge1": 0.0, "rougeL": 0.0}
    assert rouge("bananas", "the cat") == {"rouge1": 0.0, "rougeL": 0.0}


def test_lcs_of_interleaved_words():
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
