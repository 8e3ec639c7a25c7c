"""A model backend for tests that need answers but not a real model: it answers with a fixed text, or echoes back
every marker word (``MK…``) it was sent, the way a real model repeats details from its prompt. Every prompt it
receives is kept in ``calls``, so a test can read exactly what was sent."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Iterator, Sequence

from playground.models.llm import Usage

MARKER = re.compile(r"MK[0-9a-z]+")


class EchoBackend:
    name = "echo"
    where = "in-process"

    def __init__(self, answer: str | None = None, models: Sequence[str] = ("echo",)) -> None:
        self.answer = answer
        self.models = list(models)
        self.calls: list[list[dict[str, str]]] = []
        self._n = itertools.count(1)
        self._lock = threading.Lock()

    def list_models(self) -> list[str]:
        return list(self.models)

    def stream(self, messages: Sequence[dict[str, str]], model: str, *, temperature: float,
               max_tokens: int) -> Iterator[str | Usage]:
        with self._lock:
            self.calls.append([dict(m) for m in messages])
            n = next(self._n)
        if self.answer is not None:
            text = self.answer
        else:
            seen = sorted(set(MARKER.findall(" ".join(m["content"] for m in messages))))
            text = f"MKans{n}x answer {n}, having read: {' '.join(seen) or 'nothing personal'}."
        for word in text.split(" "):
            if word:
                yield word + " "
        yield Usage(None, None)
