"""What the chat says while the model has not written its first word: that it is thinking, and how many questions
are ahead in its queue when the backend can tell (``waiting() -> int``, as the embedded backend will offer)."""

from types import SimpleNamespace

from components.chat_view import THINKING, _ahead, thinking_label
from playground.models.llm import OpenAICompatibleBackend


def test_the_thinking_label_counts_the_questions_ahead_and_never_breaks_an_answer():
    plain = SimpleNamespace(backend=OpenAICompatibleBackend("http://127.0.0.1:9/v1"))
    assert _ahead(plain) == 0 and thinking_label(_ahead(plain)) == THINKING  # a backend without a queue
    queued = SimpleNamespace(backend=SimpleNamespace(waiting=lambda: 2))
    assert thinking_label(_ahead(queued)) == f"{THINKING} 2 questions ahead of yours in its queue."
    assert thinking_label(1).endswith("1 question ahead of yours in its queue.")

    def broken() -> int:
        raise RuntimeError("queue status unavailable")

    assert _ahead(SimpleNamespace(backend=SimpleNamespace(waiting=broken))) == 0
