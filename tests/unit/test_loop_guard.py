"""A looping answer is stopped at the door and marked; an answer that does not loop is never touched."""

from __future__ import annotations

import json
from pathlib import Path

from playground.models.llm import Usage
from playground.models.loop_guard import LoopGuard
from playground.models.selection import ModelChoice
from playground.pipeline.conversations import LOOP_MARKER
from playground.settings import Settings
from playground.stores.db import Database

FEDERALIST = Path(__file__).resolve().parents[2] / "playground" / "data" / "federalist" / "federalist.jsonl"
LOOP = ("The navy protects our trade. The United States is a sovereign and independent nation that needs a navy. "
        + "The United States is a sovereign and independent nation that needs a navy to protect its trade. " * 8)


def pieces(text: str, size: int = 5) -> list[str]:
    """Text in small pieces, the way a model streams it (pieces often end inside a word)."""
    return [text[i:i + size] for i in range(0, len(text), size)]


def fed(guard: LoopGuard, text: str) -> int | None:
    """How many characters had arrived when the guard fired, or None when it never did."""
    seen = 0
    for p in pieces(text):
        seen += len(p)
        if guard.feed(p):
            return seen
    return None


def test_a_loop_is_caught_within_a_few_sentences_of_starting():
    at = fed(LoopGuard(), LOOP)
    assert at is not None
    first_repeat = LOOP.index("The United States", LOOP.index("The United States") + 1)
    # caught within three repetitions of the 17-word sentence, long before the 8 copies end
    assert at < first_repeat + 3 * len("The United States is a sovereign and independent nation that needs a navy "
                                       "to protect its trade. "), (at, first_repeat)


def test_long_prose_that_does_not_loop_is_never_stopped():
    # All 85 papers, whole: several restate a clause of the Constitution word for word (Nos. 42, 47, 70, 80), which
    # a guard looking only at the last few dozen words would take for a loop.
    papers = [json.loads(line) for line in FEDERALIST.read_text(encoding="utf-8").splitlines()]
    assert len(papers) == 85, "the bundled Federalist papers are the prose checked here"
    for paper in papers:
        assert fed(LoopGuard(), paper["text"]) is None, paper["paper"]


def test_a_short_refrain_or_a_list_is_not_a_loop():
    refrain = " ".join(f"Step {i}: add the {w} and stir it well, then wait." for i, w in
                       enumerate(["flour", "milk", "eggs", "sugar", "butter", "salt", "yeast", "honey"], 1))
    assert fed(LoopGuard(), refrain) is None


def test_window_zero_turns_the_guard_off():
    assert fed(LoopGuard(window=0), LOOP) is None


class LoopingBackend:
    name, where = "looping", "in-process"

    def __init__(self) -> None:
        self.closed = False
        self.sent = 0

    def list_models(self) -> list[str]:
        return ["m"]

    def stream(self, messages, model, *, temperature, max_tokens):
        try:
            for p in pieces(LOOP * 4):
                self.sent += 1
                yield p
            yield Usage(None, None, "length")
        except GeneratorExit:
            self.closed = True
            raise


def door(tmp_path: Path, backend, **env: str) -> ModelChoice:
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": str(tmp_path), **env})
    return ModelChoice(settings, Database(settings.db_path), backend)


def test_the_door_stops_a_looping_answer_and_frees_the_engine(tmp_path):
    backend = LoopingBackend()
    got = list(door(tmp_path, backend).stream([{"role": "user", "content": "navy?"}], "m"))
    text = "".join(p for p in got if isinstance(p, str))
    assert isinstance(got[-1], Usage) and got[-1].stopped_looping and not got[-1].cut_at_limit
    assert backend.closed, "the engine's stream is closed, so the slot stops writing"
    assert len(text) < len(LOOP), "stopped during the first pass of the loop, not at the token limit"
    assert backend.sent < len(pieces(LOOP * 4))


def test_the_door_passes_a_looping_answer_through_when_the_guard_is_off(tmp_path):
    backend = LoopingBackend()
    got = list(door(tmp_path, backend, PLAYGROUND_LOOP_WINDOW="0").stream([{"role": "user", "content": "q"}], "m"))
    assert got[-1].cut_at_limit and "".join(p for p in got if isinstance(p, str)) == LOOP * 4


def test_the_marker_says_in_words_why_the_answer_ends():
    assert "repeating itself" in LOOP_MARKER and LOOP_MARKER.startswith(" …")
