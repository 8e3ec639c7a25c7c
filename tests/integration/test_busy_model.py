"""A busy model: two people asking at once, empty answers, and a model listing that fails or is slow. Names say
what runs: `llama_cpp_engine` tests talk to a real llama.cpp server serving the generated tiny model; the others
use the echoing backend from tests/support/fake_llm.py or a backend whose listing fails on purpose."""

from __future__ import annotations

import threading
import time

import pytest

from playground import Playground, RetrievalOptions, Settings
from playground.errors import EmptyAnswer, LLMError, LLMSlow, LLMUnavailable
from playground.models.llm import backend_status
from tests.support.fake_llm import EchoBackend


def ask_in_thread(pg: Playground, profile_id: str | None, text: str, results: dict, key: str,
                  started: threading.Event | None = None) -> threading.Thread:
    def run() -> None:
        turn = pg.conversations.start_turn(pg.conversations.new_session(profile_id)["id"], text, "global",
                                           RetrievalOptions(k=2))
        try:
            for _ in turn.stream():
                if started:
                    started.set()
        except LLMError as e:
            results[key + "_error"] = e
        results[key] = turn

    t = threading.Thread(target=run)
    t.start()
    return t


@pytest.mark.engine
def test_llama_cpp_engine_two_people_asking_at_once_both_get_complete_answers(llm_env, embedder):
    pg = Playground(Settings.from_env(llm_env), embedder=embedder)
    ada, bob = pg.people.create_profile("Ada"), pg.people.create_profile("Bob")
    results: dict = {}
    threads = [ask_in_thread(pg, p["id"], f"Hello from {p['display_name']}", results, p["id"]) for p in (ada, bob)]
    for t in threads:
        t.join(timeout=300)
    for p in (ada, bob):
        turn = results[p["id"]]
        assert p["id"] + "_error" not in results, results[p["id"] + "_error"]
        assert turn.status == "complete" and turn.answer.strip(), (turn.status, turn.answer)
        saved = pg.conversations.session_messages(turn.session_id)[-1]
        assert saved["status"] == "complete" and saved["content"] == turn.answer
    assert pg.models.generation_queue.snapshot() == (0, 0)


@pytest.fixture(scope="module")
def two_slot_server(tiny_model):
    """llama.cpp's server with two slots: it would run two requests at once if the app sent them."""
    from tests.support.engine import llama_server

    with llama_server(tiny_model, alias="tiny", slots=2) as url:
        yield url


@pytest.mark.engine
def test_llama_cpp_engine_parallel_1_means_one_request_at_a_time_across_chat_and_summaries(
        two_slot_server, tmp_path, embedder):
    # The cut-off: a summary (or evaluation, judge, probe) sent while a chat answer streams went around the
    # chat's queue; a llama.cpp server then cut off the running answer. Here the server could serve both at once, so
    # any overlap between the two requests is the app breaking PLAYGROUND_LLM_PARALLEL=1.

    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "openai",
           "PLAYGROUND_OPENAI_BASE_URL": two_slot_server, "PLAYGROUND_MODEL": "tiny",
           "PLAYGROUND_MAX_TOKENS": "200", "PLAYGROUND_LLM_PARALLEL": "1"}
    pg = Playground(Settings.from_env(env), embedder=embedder)
    ada = pg.people.create_profile("Ada")
    pg.library.add_sample(ada["id"], text="The river rose all night and we moved the sheep to the hill pasture.")
    spans: dict[int, list[float]] = {}
    original = pg.backend.stream
    counter = iter(range(100))

    def watched(*args, **kwargs):  # when each request really streams from the server
        n = next(counter)
        for piece in original(*args, **kwargs):
            spans.setdefault(n, [time.monotonic(), 0.0])[1] = time.monotonic()
            yield piece

    pg.backend.stream = watched  # type: ignore[method-assign]
    summary_done = threading.Event()
    results: dict = {}

    def summarise() -> None:
        try:
            results["summary"] = pg.summaries.generate_summary(ada["id"])
        except LLMError as e:
            results["summary_error"] = e
        summary_done.set()

    turn = pg.conversations.start_turn(pg.conversations.new_session(ada["id"])["id"], "Tell me about the flood.", "user")
    summariser = threading.Thread(target=summarise)
    pieces = []
    for piece in turn.stream():
        if not pieces:  # the chat answer is streaming: now the summary is asked for
            summariser.start()
            deadline = time.monotonic() + 60
            while not summary_done.is_set() and pg.models.generation_queue.snapshot() != (1, 1):
                assert time.monotonic() < deadline, "the summary neither ran nor waited its turn"
                summary_done.wait(0.01)
        pieces.append(piece)
    summariser.join(120)
    assert "summary_error" not in results, results.get("summary_error")
    assert turn.status == "complete" and results["summary"]["text"]
    (c0, c1), (s0, s1) = spans[0], spans[1]
    assert s0 >= c1, f"the summary streamed while the chat answer did (chat {c0:.3f}-{c1:.3f}, summary {s0:.3f}-{s1:.3f})"
    assert pg.models.generation_queue.snapshot() == (0, 0)


@pytest.mark.engine
def test_llama_cpp_engine_two_apps_on_one_single_slot_server_both_get_whole_answers(llm_env, embedder):
    # Two app processes (two pools) share one llama.cpp server with one slot: llama.cpp's own server queues the
    # second request (llama-cpp-python's cut the first one off: require_finish reports that, see
    # tests/unit/test_stream_finish.py).
    env = {**llm_env, "PLAYGROUND_MAX_TOKENS": "400"}
    first_pg = Playground(Settings.from_env(env), embedder=embedder)
    second_pg = Playground(Settings.from_env(env), embedder=embedder)
    results: dict = {}
    started = threading.Event()
    first = ask_in_thread(first_pg, None, "Write a long story about a river.", results, "first", started)
    assert started.wait(timeout=120), "the first answer started"
    second = ask_in_thread(second_pg, None, "Hello", results, "second")
    first.join(timeout=300)
    second.join(timeout=300)
    for key in ("first", "second"):
        assert key + "_error" not in results, results[key + "_error"]
        turn = results[key]
        saved = (turn.conversations.db and first_pg.conversations.session_messages(turn.session_id)[-1]
                 if key == "first" else None)
        assert turn.status == "complete" and turn.answer.strip()
        if saved:
            assert saved["status"] == "complete" and saved["content"] == turn.answer


@pytest.mark.parametrize("answer", ["", "  \n "])
def test_an_empty_answer_is_recorded_as_an_error_with_a_clear_message_not_as_complete(settings, embedder, answer):
    pg = Playground(settings, embedder=embedder, backend=EchoBackend(answer=answer))
    session = pg.conversations.new_session(None)
    turn = pg.conversations.start_turn(session["id"], "Hello?", "global")
    with pytest.raises(EmptyAnswer) as err:
        list(turn.stream())
    assert "empty answer" in str(err.value) and "ask again" in str(err.value)
    saved = pg.conversations.session_messages(session["id"])
    assert [(m["role"], m["status"]) for m in saved] == [("user", "complete"), ("assistant", "error")]
    assert "empty answer" in saved[1]["error"] and saved[1]["trace"]["status"] == "error"
    # The question is kept, and asking again works once the model answers.
    pg.backend = EchoBackend()
    again = pg.conversations.start_turn(session["id"], "Hello?", "global")
    assert "".join(again.stream()).strip() and again.status == "complete"


def test_questions_asked_at_once_wait_their_turn_and_report_how_many_are_ahead(settings, embedder):
    gate = threading.Event()

    class SlowBackend(EchoBackend):
        def stream(self, messages, model, **kw):
            gate.wait(timeout=60)
            yield from super().stream(messages, model, **kw)

    pg = Playground(settings, embedder=embedder, backend=SlowBackend())
    first = pg.conversations.start_turn(pg.conversations.new_session(None)["id"], "First?", "global")
    second = pg.conversations.start_turn(pg.conversations.new_session(None)["id"], "Second?", "global")
    ahead: list[int] = []
    second.on_wait = ahead.append
    out: dict = {}
    t1 = threading.Thread(target=lambda: out.setdefault("first", "".join(first.stream())))
    t1.start()
    while pg.models.generation_queue.snapshot()[0] == 0:
        pass
    assert pg.models.llm_status().state == "busy" and "answering 1 question" in pg.models.llm_status().note
    t2 = threading.Thread(target=lambda: out.setdefault("second", "".join(second.stream())))
    t2.start()
    while pg.models.generation_queue.snapshot() != (1, 1):
        pass
    assert ahead == [1], "the waiting question knows one is ahead of it"
    gate.set()
    t1.join(timeout=60)
    t2.join(timeout=60)
    assert out["first"].strip() and out["second"].strip()
    assert first.status == second.status == "complete"
    assert pg.models.llm_status().state == "ready"


class ListingFails(EchoBackend):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def list_models(self) -> list[str]:
        raise self.error


def test_model_status_tells_down_from_slow_and_a_slow_server_still_gets_the_question():
    down = backend_status(ListingFails(LLMUnavailable("No model server answers at x.", "Start it.")))
    assert down.state == "down" and not down.can_answer and "No model server answers" in down.problem
    slow = backend_status(ListingFails(LLMSlow("did not answer in time")), preferred="tiny")
    assert slow.state == "slow" and slow.can_answer and slow.model == "tiny"
    assert "running but slow" in slow.problem and "still sent" in slow.problem
    ready = backend_status(EchoBackend())
    assert ready.state == "ready" and ready.can_answer and ready.model == "echo"
    none = backend_status(EchoBackend(models=()))
    assert none.state == "no_model" and not none.can_answer


def test_a_looping_answer_is_stopped_marked_and_kept_and_the_next_question_is_answered(settings, embedder):
    loop = "The navy guards our ships. " + "The union is strong and the union needs a navy to guard its trade. " * 30
    pg = Playground(settings, embedder=embedder, backend=EchoBackend(answer=loop))
    session = pg.conversations.new_session(None)
    turn = pg.conversations.start_turn(session["id"], "Why a navy?", "global")
    shown = "".join(turn.stream())
    assert turn.status == "complete" and shown == turn.answer
    assert turn.answer.endswith("(stopped here: the model had begun repeating itself)")
    assert len(turn.answer) < len(loop) // 5, "stopped within a few repetitions, not at the end of the loop"
    saved = pg.conversations.session_messages(session["id"])[1]
    assert saved["content"] == turn.answer and saved["status"] == "complete"
    assert saved["trace"]["finish_reason"] == "loop" and saved["trace"]["stopped_looping"]
    assert not saved["trace"]["cut_at_limit"]
    pg.backend = EchoBackend()
    again = pg.conversations.start_turn(session["id"], "Hello?", "global")
    assert "repeating itself" not in "".join(again.stream()) and again.status == "complete"
