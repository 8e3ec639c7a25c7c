"""A first-come, first-served queue in front of the model server, so concurrent questions wait instead of colliding.

llama.cpp's Python server answers one request at a time and, by default, *interrupts* the running answer when a
new request arrives: two people asking at once cut each other off. Other servers queue internally but say nothing
about it. This queue lets at most ``slots`` answers run at once from this process; the others wait in order and
can report how many questions are ahead, so the page can say "2 questions are ahead of yours". A question that waits
longer than ``timeout`` seconds is refused with a clear error instead of being dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import Callable, Iterator

from playground.errors import LLMSlow

OnWait = Callable[[int], None]  # called while a question waits, with how many are ahead (being answered or waiting)


class GenerationQueue:
    def __init__(self, slots: int = 1) -> None:
        self.slots = max(1, int(slots))
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._waiting: list[int] = []
        self._active = 0

    def snapshot(self) -> tuple[int, int]:
        """(answers being written now, questions waiting)."""
        with self._cond:
            return self._active, len(self._waiting)

    @contextlib.contextmanager
    def slot(self, timeout: float, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold one slot while the body runs; wait in line for it first, calling ``on_wait`` whenever the number
        of questions ahead changes."""
        ticket = next(self._tickets)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiting.append(ticket)
            reported = 0
            try:
                while self._active >= self.slots or self._waiting[0] != ticket:
                    ahead = self._waiting.index(ticket) + self._active
                    if on_wait and ahead != reported:
                        reported = ahead
                        self._cond.release()
                        try:
                            on_wait(ahead)
                        finally:
                            self._cond.acquire()
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise LLMSlow(f"The model was busy with other questions for {timeout:.0f} s, so this one was "
                                      "not sent.", "Ask again in a moment; nothing you typed was lost.")
                    self._cond.wait(min(left, 1.0))
                self._active += 1
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()
