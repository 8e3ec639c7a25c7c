"""What the chat says while the model has not written its first word: that it is thinking, and how many questions
are ahead of this one at the model, read from the one slot pool of the door (``ModelChoice``), never counting the
asker's own question."""

import threading
from types import SimpleNamespace

from components.chat_view import THINKING, _ahead, thinking_label
from playground.models.selection import ModelChoice
from playground.settings import Settings
from tests.support.fake_llm import EchoBackend


class HeldBackend(EchoBackend):
    """Answers only when ``release`` is set, so a test can keep a question in the slot."""

    def __init__(self) -> None:
        super().__init__("held answer")
        self.release = threading.Event()
        self.started = threading.Event()

    def stream(self, messages, model, *, temperature, max_tokens):
        self.started.set()
        self.release.wait(30)
        yield from super().stream(messages, model, temperature=temperature, max_tokens=max_tokens)


def test_a_lone_asker_reads_nothing_ahead_and_the_next_one_reads_exactly_one(tmp_path):
    backend = HeldBackend()
    door = ModelChoice(Settings(data_dir=tmp_path, llm_parallel=1), None, backend)  # type: ignore[arg-type]
    seen: list[int] = []
    first_turn = SimpleNamespace(ahead=0)
    msgs = [{"role": "user", "content": "hi"}]

    def first() -> None:
        for _ in door.stream(msgs, "echo", on_wait=lambda n: setattr(first_turn, "ahead", n)):
            pass

    t1 = threading.Thread(target=first)
    t1.start()
    assert backend.started.wait(10)
    assert _ahead(SimpleNamespace(models=door), first_turn) == 0, "the lone asker's own question is not ahead"
    assert thinking_label(_ahead(SimpleNamespace(models=door), first_turn)) == THINKING
    assert _ahead(SimpleNamespace(models=door)) == 1, "a newcomer sees the one being answered"

    second_turn = SimpleNamespace(ahead=0)

    def second() -> None:
        for _ in door.stream(msgs, "echo", on_wait=lambda n: (setattr(second_turn, "ahead", n), seen.append(n))):
            pass

    t2 = threading.Thread(target=second)
    t2.start()
    while not seen:
        threading.Event().wait(0.01)
    assert thinking_label(_ahead(SimpleNamespace(models=door), second_turn)) == \
        f"{THINKING} 1 question ahead of yours in its queue."
    backend.release.set()
    t1.join(10)
    t2.join(10)
    assert seen == [1, 0] and second_turn.ahead == 0, "told 1 ahead, then that it is being answered"
    assert door.generation_queue.snapshot() == (0, 0)
    assert thinking_label(1).endswith("1 question ahead of yours in its queue.")


def test_a_broken_status_never_breaks_an_answer():
    class Broken:
        def ahead(self) -> int:
            raise RuntimeError("queue status unavailable")

    assert _ahead(SimpleNamespace(models=Broken())) == 0
