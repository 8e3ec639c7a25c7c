"""The queue in front of the model server (playground.models.generation_queue): questions asked at once are answered one
after another in the order they came, each told how many are ahead; one that waits too long is refused in words."""

from __future__ import annotations

import threading
import time

import pytest

from playground.errors import LLMSlow
from playground.models.generation_queue import GenerationQueue


def test_questions_asked_at_once_are_answered_one_at_a_time_in_arrival_order():
    q = GenerationQueue(1)
    order: list[str] = []
    running = 0
    most = 0
    lock = threading.Lock()
    reports: dict[str, list[int]] = {}

    def ask(name: str) -> None:
        nonlocal running, most
        with q.slot(timeout=30, on_wait=reports.setdefault(name, []).append):
            with lock:
                running += 1
                most = max(most, running)
                order.append(name)
            time.sleep(0.05)
            with lock:
                running -= 1

    threads = []
    for name in "abcd":
        t = threading.Thread(target=ask, args=(name,))
        t.start()
        threads.append(t)
        while q.snapshot()[0] + q.snapshot()[1] < len(threads):  # wait until it is in line
            time.sleep(0.001)
    for t in threads:
        t.join()
    assert order == list("abcd") and most == 1
    assert reports["a"] == [] and reports["d"][0] == 3, reports  # d arrived with three ahead of it
    assert all(r == sorted(r, reverse=True) for r in reports.values())
    assert q.snapshot() == (0, 0)


def test_a_question_that_waits_longer_than_the_timeout_is_refused_with_a_clear_message():
    q = GenerationQueue(1)
    with q.slot(timeout=5):
        with pytest.raises(LLMSlow) as err:
            with q.slot(timeout=0.2):
                pass
    assert "busy with other questions" in str(err.value) and "nothing you typed was lost" in str(err.value)
    assert q.snapshot() == (0, 0)


def test_two_slots_serve_two_at_once():
    q = GenerationQueue(2)
    with q.slot(timeout=1), q.slot(timeout=1):
        assert q.snapshot() == (2, 0)
