"""Bias probe (survey §9, fairness): the same questions for two synthetic profiles that differ in exactly one
attribute (age range, occupation, location or gender), everything else equal.

Both profiles are built in memory (nothing is stored): the same neutral name and, when a base profile is given, its
other attributes; no writing snippets and no history, so the one attribute is the only difference between the two
prompts. Each question is answered at temperature 0 by the same model for both. Per question: the two answers, a
word diff, and measured differences (length in words, Flesch-Kincaid reading grade from textstat, VADER sentiment
from vaderSentiment, embedding distance). Across questions: the mean difference with a 95% bootstrap interval and an
exact sign test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from playground.errors import InvalidInput
from playground.models.llm import LLMBackend
from playground.people.profiles import clean_attributes
from playground.pipeline.prompting import build_prompt
from playground.research.probes import metrics
from playground.research.probes.counterfactual import generate

PROBE_ATTRIBUTES: tuple[str, ...] = ("age_range", "occupation", "location", "gender")
QUESTIONS_FILE = Path(__file__).with_name("bias_questions.txt")
NEUTRAL_NAME = "Alex"
MEASURES: tuple[str, ...] = ("words", "reading_grade", "sentiment")
MAX_QUESTIONS = 50
EXPLAINED = ("The same questions, asked for two made-up people who differ in one attribute only: if the answers "
             "differ in length, reading level, tone or content, that attribute alone changed what the model wrote.")
HONEST_NOTE = (
    "What this can show: whether this model, with this prompt wording, at temperature 0, writes measurably different "
    "answers for these questions when only this attribute changes. What it cannot show: that the model is fair or "
    "unfair in general (one model, one wording, a handful of questions; with few questions the intervals are wide "
    "and a non-significant result is not evidence of no difference), which of the two answers is better, or what "
    "happens at other temperatures or with real people's data. A difference can also come from the value's words "
    "themselves (e.g. '65+' simply being in the prompt), not from a stereotype. Treat it as a prompt for discussion, "
    "not a measurement of bias."
)


def read_questions(path: Path) -> list[str]:
    """Questions from a text file, one per line ('#' comments and blank lines skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"The questions file {path} cannot be read.", "Give a UTF-8 text file, one question "
                           "per line.") from e
    return check_questions(text.splitlines())


def default_questions() -> list[str]:
    return read_questions(QUESTIONS_FILE)


def check_questions(lines: Sequence[str]) -> list[str]:
    qs = [q.strip() for q in lines if q.strip() and not q.strip().startswith("#")]
    if not qs:
        raise InvalidInput("There are no questions to ask.", "Write at least one question, one per line.")
    if len(qs) > MAX_QUESTIONS:
        raise InvalidInput(f"{len(qs)} questions is too many for one probe; at most {MAX_QUESTIONS}.")
    return qs


def synthetic_profiles(attribute: str, values: Sequence[str], base: dict[str, Any] | None = None
                       ) -> list[dict[str, Any]]:
    """Two in-memory profiles equal in everything except ``attribute`` (validated like a real profile's)."""
    if attribute not in PROBE_ATTRIBUTES:
        raise InvalidInput(f"The bias probe varies one of: {', '.join(PROBE_ATTRIBUTES)}; not '{attribute}'.")
    vals = [str(v).strip() for v in values]
    if len(vals) != 2 or not all(vals) or vals[0] == vals[1]:
        raise InvalidInput("Give exactly two different values for the attribute, e.g. \"18-24,65+\".")
    common = {k: (base or {}).get(k, "") for k in ("age_range", "occupation", "location", "gender", "interests",
                                                   "preferred_tone", "notes")}
    out = []
    for n, v in enumerate(vals):
        attrs = clean_attributes({**common, "display_name": NEUTRAL_NAME, attribute: v})
        out.append({**attrs, "id": f"synthetic-{'ab'[n]}"})
    return out


@dataclass
class QuestionResult:
    question: str
    answers: list[str]
    status: list[str]
    measures: list[dict[str, float | None]]
    diff: list[dict[str, str]] = field(default_factory=list)
    embedding_distance: float | None = None
    overlap: float | None = None


@dataclass
class BiasResult:
    attribute: str
    values: list[str]
    model: str
    profiles: list[dict[str, Any]]
    prompts: list[list[dict[str, str]]]  # the system message for each profile, first question
    questions: list[QuestionResult]
    summary: dict[str, Any]
    status: str = "complete"  # complete | cancelled
    explained: str = EXPLAINED
    note: str = HONEST_NOTE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(questions: Sequence[QuestionResult]) -> dict[str, Any]:
    """Per measure: mean of (second value − first value) over answered questions, its 95% bootstrap interval and an
    exact sign test; and the mean embedding distance between the paired answers."""
    ok = [q for q in questions if q.status == ["complete", "complete"]]
    out: dict[str, Any] = {"questions": len(questions), "answered": len(ok)}
    for m in MEASURES:
        diffs = [float(b) - float(a) for q in ok
                 if (a := q.measures[0][m]) is not None and (b := q.measures[1][m]) is not None]
        out[m] = {"mean_difference": metrics.mean_with_ci(diffs), "sign_test": metrics.sign_test(diffs),
                  "means": [metrics.mean_with_ci([float(v) for q in ok
                                                  if (v := q.measures[i][m]) is not None])["mean"] for i in (0, 1)]}
    out["embedding_distance"] = metrics.mean_with_ci([q.embedding_distance for q in ok
                                                      if q.embedding_distance is not None])
    out["identical_answers"] = sum(1 for q in ok if q.answers[0].strip() == q.answers[1].strip())
    return out


def run_probe(attribute: str, values: Sequence[str], questions: Sequence[str], *, backend: LLMBackend, model: str,
              embed: Callable[[list[str]], np.ndarray], count_tokens: Callable[[str], int], budget: int,
              max_tokens: int, template: str, base: dict[str, Any] | None = None,
              progress: Callable[[str, int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> BiasResult:
    """Ask every question for both synthetic profiles (temperature 0) and measure the differences. ``template``:
    the prompt template the chat uses for ``model`` (``pg.conversations.template_for``)."""
    questions = check_questions(questions)
    profiles = synthetic_profiles(attribute, values, base)
    results: list[QuestionResult] = []
    prompts: list[list[dict[str, str]]] = []
    status = "complete"
    for n, q in enumerate(questions):
        if should_stop and should_stop():
            status = "cancelled"
            break
        if progress:
            progress(q, n, len(questions))
        answers: list[str] = []
        states: list[str] = []
        for p in profiles:
            messages = build_prompt(q, "user", count_tokens=count_tokens, budget=budget, profile=p,
                                    template=template).messages
            if n == 0:
                prompts.append(messages)
            got = generate(backend, messages, model, max_tokens, count_tokens)
            if got["status"] == "error" and not results and not answers:
                from playground.errors import LLMError

                raise LLMError(got["error"])
            answers.append(got["answer"])
            states.append(got["status"])
        r = QuestionResult(q, answers, states, [metrics.text_measures(a) for a in answers],
                           metrics.word_diff(answers[0], answers[1]), None, metrics.token_overlap(*answers))
        if all(a.strip() for a in answers):
            vecs = embed(answers)
            sim = metrics.cosine(vecs[0], vecs[1])
            r.embedding_distance = None if sim is None else 1.0 - sim
        results.append(r)
    if progress:
        progress("done", len(results), len(questions))
    return BiasResult(attribute, [p[attribute] for p in profiles], model, profiles, prompts, results,
                      summarise(results), status)
