"""How a streamed answer ends: the finish reason the model gives reaches ``Usage`` ("length" = cut at the token
limit), and a server stream that stops without any finish reason (llama-cpp-python's server cut off a running answer
when another request arrived) is reported as interrupted, with the partial answer kept."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from playground.errors import GenerationInterrupted
from playground.models.llm import Usage, _stream_chat


class Chat:
    def __init__(self, chunks):
        self.chunks = chunks

    def stream(self, messages):
        yield from self.chunks


def chunk(text, finish=None, usage=None):
    return SimpleNamespace(content=text, usage_metadata=usage,
                           response_metadata={"finish_reason": finish} if finish else {})


MSGS = [{"role": "user", "content": "hi"}]


def test_the_finish_reason_reaches_usage_and_length_means_cut():
    got = list(_stream_chat(Chat([chunk("a"), chunk("b"), chunk("", "length", {"input_tokens": 3,
                                                                             "output_tokens": 2})]),
                            MSGS, lambda e: e, require_finish=True))
    assert got[:2] == ["a", "b"] and isinstance(got[-1], Usage)
    assert got[-1].finish_reason == "length" and got[-1].cut_at_limit and got[-1].output_tokens == 2
    done = list(_stream_chat(Chat([chunk("a", "stop")]), MSGS, lambda e: e))[-1]
    assert done.finish_reason == "stop" and not done.cut_at_limit


def test_a_stream_that_stops_without_a_finish_reason_is_interrupted_not_complete():
    with pytest.raises(GenerationInterrupted) as err:
        list(_stream_chat(Chat([chunk("half "), chunk("an answer")]), MSGS, lambda e: e, require_finish=True))
    assert err.value.partial == "half an answer" and "stopped this answer" in str(err.value)
