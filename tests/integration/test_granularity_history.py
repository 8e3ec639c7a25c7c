"""History respects granularity, end to end through the Playground with real retrieval and a backend that echoes
what it read (tests/support/fake_llm.py): "global" carries no personal data, the preview is exactly what is sent,
and the CLI continues a conversation as the app does."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from typing import Any

import pytest

from playground import Playground, RetrievalOptions, Settings
from tests.conftest import ROOT
from tests.support.fake_llm import EchoBackend


@pytest.fixture
def echo_pg(settings, embedder) -> tuple[Playground, EchoBackend]:
    backend = EchoBackend()
    return Playground(settings, embedder=embedder, backend=backend), backend


def sent_text(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)


def ask(pg: Playground, sid: str, text: str, mode: str, persona_id: str | None = None,
        retriever: str = "dense") -> Any:
    turn = pg.conversations.start_turn(sid, text, mode, RetrievalOptions(retriever, k=4), persona_id=persona_id)
    list(turn.stream())
    return turn


def test_global_after_a_user_turn_sends_no_personal_history_and_the_inspector_says_what_was_left_out(echo_pg):
    pg, backend = echo_pg
    me = pg.people.create_profile("Ada", interests="MKadaint sailing", notes="MKadanote")
    pg.library.add_sample(me["id"], text="MKadasample I sail on the estuary every weekend; the tide tables rule my life.")
    sid = pg.conversations.new_session(me["id"])["id"]
    first = ask(pg, sid, "Where should I spend Sunday?", "user")
    assert "MKadasample" in first.answer and "MKadanote" in first.answer  # the echo repeats personal details
    again = ask(pg, sid, "Where should I spend Sunday?", "global")
    sent = backend.calls[-1]
    assert [m["role"] for m in sent] == ["system", "user"], "global carries none of the personalized turn"
    assert "MKada" not in sent_text(sent)
    assert [p.source for p in again.prompt.parts] == ["instructions", "message"]
    left = again.trace["history_excluded"]
    assert [(x["message_id"], x["mode"]) for x in left] == [(first.assistant_message_id, "user")]
    assert "global mode sees no personal data" in left[0]["reason"]
    # The trace as stored (what the inspector reads) says the same.
    stored = pg.conversations.session_messages(sid)[-1]["trace"]
    assert stored["prompt"]["history_excluded"] == left and stored["session_id"] == sid


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_preview_equals_the_prompt_sent_message_for_message_for_every_granularity_after_switching(echo_pg, retriever):
    pg, backend = echo_pg
    persona = pg.create_persona_with_examples("Sailors", "People who sail small boats. MKsailorsdesc")
    me = pg.people.create_profile("Ada", interests="MKadaint", persona_id=persona["id"], share_with_persona=True)
    other = pg.people.create_profile("Bob", persona_id=persona["id"], share_with_persona=True)
    pg.library.add_sample(me["id"], text="MKadasample The tide tables rule my life; I sail every weekend.")
    pg.library.add_sample(other["id"], text="MKbobsample Knots, sheets and halyards: I teach sailing to children.")
    sid = pg.conversations.new_session(me["id"])["id"]
    # A conversation that switches granularity, as in the workshop: user, global, persona, auto, user.
    for mode in ("user", "global", "persona", "auto", "user"):
        ask(pg, sid, f"Tell me about sailing ({mode}).", mode, retriever=retriever)
    for mode in ("global", "persona", "user", "auto", "global", "persona"):
        # What the Chat page previews after a switch, then what "Ask again" sends: the same call, same inputs.
        options = RetrievalOptions(retriever, k=4)
        hits, preview, _ = pg.conversations.preview(me["id"], "And in winter?", mode, options, session_id=sid)
        turn = pg.conversations.start_turn(sid, "And in winter?", mode, options)
        assert turn.prompt.messages == preview.messages, mode
        assert [(p.source, p.label, p.text) for p in turn.prompt.parts] == \
               [(p.source, p.label, p.text) for p in preview.parts], mode
        assert turn.prompt.tokens == preview.tokens and turn.prompt.history_excluded == preview.history_excluded
        list(turn.stream())
        assert backend.calls[-1] == preview.messages, "the backend received exactly the preview"
        text = sent_text(preview.messages)
        if turn.trace["mode"] == "global":
            assert "MK" not in text.replace("MKans", ""), text  # no personal data (answers checked below)
            history_ids = set(preview.history_ids)
            modes = {m["id"]: (m["trace"] or {}).get("mode") for m in pg.conversations.session_messages(sid)
                     if m["role"] == "assistant"}
            assert all(modes[i] == "global" for i in history_ids if i in modes)
        if turn.trace["mode"] == "persona":
            assert "MKadaint" not in text


def test_cli_chat_continues_a_conversation_with_the_same_history_the_app_would_send(tmp_path, embedder):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "data"), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": "http://127.0.0.1:9"}  # no model: the turn is recorded with its prompt

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=180)

    def trace_of(p: subprocess.CompletedProcess) -> dict[str, Any]:
        """The chat's trace: the JSON line on stderr (the error line, if any, follows it)."""
        return json.loads(next(line for line in p.stderr.splitlines() if line.startswith("{")))

    user = json.loads(cli("users", "add", "Ada").stdout)
    sample = tmp_path / "ada.txt"
    sample.write_text("MKadasample The tide tables rule my life; I sail every weekend.")
    assert cli("samples", "add", user["id"], str(sample)).returncode == 0
    first = cli("chat", user["id"], "Where do I sail?", "--mode", "user")
    trace = trace_of(first)
    sid = trace["session_id"]
    assert sid and trace["history_ids"] == []
    second = cli("chat", user["id"], "And at night?", "--mode", "user", "--session", sid)
    trace2 = trace_of(second)
    assert trace2["session_id"] == sid
    assert [m["content"] for m in trace2["prompt"]["messages"][1:-1]] == ["Where do I sail?"]
    third = cli("chat", user["id"], "And in winter?", "--mode", "global", "--session", sid)
    trace3 = trace_of(third)
    assert len(trace3["prompt"]["messages"]) == 2 and "MKada" not in json.dumps(trace3["prompt"]["messages"])
    # The app's own code, on the same data folder, builds the same prompts for that conversation.
    pg = Playground(Settings.from_env({k: v for k, v in env.items() if k.startswith("PLAYGROUND_")}),
                    embedder=embedder)
    for mode in ("user", "global"):
        _, build, _ = pg.conversations.preview(user["id"], "Once more?", mode, session_id=sid)
        preview = json.loads(cli("prompt", user["id"], "Once more?", "--mode", mode, "--session", sid).stdout)
        assert preview["messages"] == build.messages
    # Another profile cannot continue it.
    bob = json.loads(cli("users", "add", "Bob").stdout)
    refused = cli("chat", bob["id"], "Hi", "--session", sid)
    assert refused.returncode == 1 and "belongs to another profile" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_randomized_conversations_never_carry_a_persons_data_into_global_or_into_another_persons_prompt(echo_pg):
    pg, backend = echo_pg
    seed = int(os.environ.get("HISTORY_TEST_SEED") or random.randrange(1 << 30))  # a failure prints its seed
    rng = random.Random(seed)
    p1 = pg.create_persona_with_examples("Sailors", "People who sail small boats.")
    p2 = pg.create_persona_with_examples("Gardeners", "People who grow vegetables.")
    people: dict[str, dict[str, Any]] = {}
    for name, persona, share in (("ann", p1, True), ("ben", p1, False), ("cat", p2, rng.random() < 0.5)):
        prof = pg.people.create_profile(name.title(), notes=f"MK{name}profile", interests=f"MK{name}interest",
                                 persona_id=persona["id"], share_with_persona=share)
        n_samples = rng.randint(1, 3)
        for i in range(n_samples):
            pg.library.add_sample(prof["id"],
                                  text=f"MK{name}sample{i}x A note about boats, gardens and weekends number {i}.")
        people[name] = {"profile": prof, "persona": persona["id"] if share else None,
                        "samples": {f"MK{name}sample{i}x" for i in range(n_samples)},
                        "sessions": [pg.conversations.new_session(prof["id"])["id"]]}
    personas_seen: dict[str, set[str]] = {}  # session -> personas whose (shared) data its turns saw
    user_level: dict[str, set[str]] = {n: set() for n in people}  # markers from each person's user-level turns
    persona_level: dict[str, set[str]] = {}  # persona id -> markers from its turns
    log = []
    for step in range(36):
        name = rng.choice(list(people))
        person = people[name]
        if rng.random() < 0.1:
            person["sessions"].append(pg.conversations.new_session(person["profile"]["id"])["id"])
        sid = person["sessions"][-1]
        mode = rng.choice(["user", "persona", "global", "auto", "global"])
        persona_id = rng.choice([p1["id"], p2["id"]]) if mode == "persona" else None
        q = f"MK{name}q{step}x what about weekends?"  # markers end in x: "q2x" is no part of "q20x"
        turn = pg.conversations.start_turn(sid, q, mode, RetrievalOptions(rng.choice(["dense", "bm25", "hybrid"]), k=3),
                             persona_id=persona_id)
        list(turn.stream())
        resolved, used_persona = turn.trace["mode"], turn.trace["persona_id"]
        log.append((name, mode, resolved, used_persona))
        text = sent_text(backend.calls[-1])
        own_question = f"MK{name}q{step}x"
        others = [n for n in people if n != name]
        forbidden: set[str] = set()
        for n in people:  # profiles never leave their own user-level prompts
            if n != name or resolved != "user":
                forbidden |= {f"MK{n}profile", f"MK{n}interest"}
        for n in others:  # nobody's user-level turns reach another person
            forbidden |= user_level[n]
        if resolved != "user":  # nor a lower granularity of the same person
            forbidden |= user_level[name]
        for n in people:
            # Samples: in their owner's user level; in the persona they share with (a persona's data); and in a
            # user-level turn of a conversation that already saw that persona (the person has seen them there).
            shared = people[n]["persona"]
            allowed = ((n == name and resolved == "user")
                       or (shared and resolved == "persona" and shared == used_persona)
                       or (shared and resolved == "user" and shared in personas_seen.get(sid, set())))
            if not allowed:
                forbidden |= people[n]["samples"]
        for pid, marks in persona_level.items():
            if resolved == "global" or (resolved == "persona" and pid != used_persona):
                forbidden |= marks
        found = sorted(m for m in forbidden if m in text.replace(own_question, ""))
        assert not found, f"seed {seed}, step {step}, {name} under {mode}→{resolved}: leaked {found}\n{log}"
        # What this turn's answer carries, for the checks of later turns.
        marks = {own_question, turn.answer.split()[0]}  # the question and this answer's own marker (MKans<n>x)
        assert turn.answer.startswith("MKans")
        if resolved == "user":
            user_level[name] |= marks
        elif resolved == "persona":
            persona_level.setdefault(used_persona, set()).update(marks)
            personas_seen.setdefault(sid, set()).add(used_persona)
    assert {r for _, _, r, _ in log} >= {"user", "global"}, log


def test_a_conversation_recorded_before_history_respected_granularity_leaks_nothing_into_global(echo_pg):
    pg, backend = echo_pg
    me = pg.people.create_profile("Ada", notes="MKadanote")
    sid = pg.conversations.new_session(me["id"])["id"]
    personal = ask(pg, sid, "Where should I sail?", "user")
    old_global = ask(pg, sid, "And in general?", "global")
    # Make the global turn look as the old code recorded it: it carried the personalized turn as history (no
    # history_ids in its trace) and its answer repeated what that history said.
    with pg.db.transaction() as db:
        db.execute("UPDATE traces SET data = json_insert(json_remove(data, '$.history_ids'), '$.prompt.parts[#]', "
                   "json('{\"source\": \"history\"}')) WHERE message_id = ?", (old_global.assistant_message_id,))
        db.execute("UPDATE messages SET content = content || ' MKadanote' WHERE id = ?",
                   (old_global.assistant_message_id,))
    now = ask(pg, sid, "Anything else?", "global")
    assert "MKadanote" not in sent_text(backend.calls[-1])
    left = {x["message_id"]: x["reason"] for x in now.trace["history_excluded"]}
    assert set(left) == {personal.assistant_message_id, old_global.assistant_message_id}
    assert "carried personal data from earlier turns" in left[old_global.assistant_message_id]
    # A user-level turn still carries the whole conversation.
    assert "MKadanote" in sent_text(pg.conversations.preview(me["id"], "More?", "user", session_id=sid)[1].messages)
