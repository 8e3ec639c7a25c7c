"""Consent that means what it says (playground/people/consent.py, SHARING_EXPLAINED): shared writing reaches only the other
members of the persona in the same context (a study, or the playground outside studies), never with the writer's
name; non-members, auto mode and a study's auto condition get the persona's description and examples only; opting
out removes the writing from the group and from every stored trace of others; a sample stored while its owner opts
out does not stay in the persona. Each test attacks the promise the way a participant or a reviewer would."""

from __future__ import annotations

import json
import uuid

import pytest

from playground import LLMError, Playground, RetrievalOptions
from playground.people.consent import MEMBER_NAME
from playground.people.profiles import SHARING_EXPLAINED
from playground.stores.vectors import persona_collection

# The fake embedder (tests/support/fake_embedder.py): what is asserted is who may reach which passage, not how well it
# ranks; shared words find the passages.
pytestmark = pytest.mark.fake_embedder

# Each test using a Playground runs on the embedded store and on a real Chroma server (tests/integration/conftest.py).
VECTOR_BACKENDS = ("local", "server")

GARDEN = ("We grow tomatoes, beans and squash in raised beds behind the house. Every spring we turn the compost, "
          "sow the seeds indoors in March and plant them out after the last frost. Watering early in the morning "
          "keeps the leaves dry and the slugs away.")
QUESTION = "How should I water tomatoes in raised beds?"


def marker() -> str:
    return "zq" + uuid.uuid4().hex[:14]


def gardeners(pg: Playground) -> str:
    return pg.create_persona_with_examples("Gardeners",
                                           "You are talking with people who grow vegetables and tomatoes at home.",
                             examples=["Our allotment gives more courgettes than we can eat."])["id"]


def sharer(pg: Playground, persona: str, secret: str, owner_token: str = "", profile_id: str | None = None) -> str:
    """A member of ``persona`` who shares a sample holding ``secret``, named after it too."""
    if profile_id is None:
        profile_id = pg.people.create_profile(f"Alice {secret}", owner_token=owner_token)["id"]
    pg.people.update_profile(profile_id, display_name=f"Alice {secret}", persona_id=persona, share_with_persona=True)
    pg.library.add_sample(profile_id, text=f"{GARDEN} My watering trick is {secret}.", title="my garden")
    return profile_id


def seen(pg: Playground, profile_id: str | None, mode: str, persona_id: str | None = None) -> str:
    """Everything a turn would put in front of the model and the inspector, for every retriever, as one string."""
    out = []
    for retriever in ("dense", "bm25", "hybrid"):
        hits, build, _ = pg.conversations.preview(profile_id, QUESTION, mode, RetrievalOptions(retriever, k=8),
                                    persona_id=persona_id)
        out.append(json.dumps([h.to_dict() for h in hits]) + json.dumps(build.to_dict()))
    return "\n".join(out)


def test_the_consent_text_names_who_sees_shared_writing_and_what_opting_out_does():
    text = SHARING_EXPLAINED.lower()
    assert "nobody else" not in text
    for promise in ("other members of your persona", "never your name", "study", "auto mode", "turning this off",
                    "stored conversation"):
        assert promise in text, promise


def test_a_member_gets_shared_writing_without_the_writers_name(pg):
    persona, secret = gardeners(pg), marker()
    sharer(pg, persona, secret)
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    got = seen(pg, bob, "persona")
    assert secret in got, "a member of the same persona receives the shared passage (the consented use)"
    assert f"Alice {secret}" not in got and MEMBER_NAME in got


# The example about courgettes shares no word with the question about tomatoes: only real embeddings find it.
@pytest.mark.real_embedder
@pytest.mark.parametrize("who", ["a non-member picking the persona", "no profile at all"])
def test_picking_a_persona_without_joining_it_gives_examples_only(pg, who):
    persona, secret = gardeners(pg), marker()
    sharer(pg, persona, secret)
    carol = pg.people.create_profile("Carol")["id"] if who.startswith("a non") else None
    got = seen(pg, carol, "persona", persona_id=persona)
    assert secret not in got
    assert "courgettes" in got, "the persona's shipped/created examples are still retrieved"


def test_auto_mode_for_a_non_member_never_reaches_members_writing(pg):
    persona, secret = gardeners(pg), marker()
    sharer(pg, persona, secret)
    dave = pg.people.create_profile("Dave", interests="tomatoes, vegetables, gardening")["id"]
    pg.library.add_sample(dave, text="I started growing tomatoes this year and want to learn about watering.")
    assert pg.scoping.resolve_auto(pg.people.get_profile(dave))["persona_id"] == persona, "auto picked the gardeners persona"
    got = seen(pg, dave, "auto")
    assert '"mode": "persona"' in got and secret not in got


def test_a_study_auto_condition_never_mixes_in_workshop_users_writing_or_names(pg):
    persona, secret = gardeners(pg), marker()
    sharer(pg, persona, secret)  # a workshop user, sharing
    study = pg.studies.create_study("Garden study", "I agree.", [{"mode": "auto"}, {"mode": "global"}], [QUESTION])
    p = pg.studies.join(study["code"], "P01")
    pg.studies.consent(p["id"])
    pg.library.add_sample(p["profile_id"], text="I grow tomatoes on my balcony and water them every evening.")
    with pytest.raises(LLMError):  # no model here: the turn (prompt, hits, trace) is recorded all the same
        pg.studies.generate_answers(p["id"], 0)
    traces = pg.db.query("SELECT data FROM traces WHERE profile_id = ?", (p["profile_id"],))
    assert any(json.loads(t["data"])["mode"] == "persona" for t in traces), "auto resolved to the persona"
    everything = json.dumps([t["data"] for t in traces]) + pg.studies.export_jsonl(study["id"]) + \
        json.dumps(pg.studies.export_participant(p["id"]), default=str)
    assert secret not in everything


def test_study_participants_and_workshop_users_never_receive_each_others_writing(pg):
    persona = gardeners(pg)
    workshop_secret, study_secret, fellow_secret = marker(), marker(), marker()
    sharer(pg, persona, workshop_secret)
    study = pg.studies.create_study("Garden study", "I agree.", [{"mode": "persona"}, {"mode": "global"}], [QUESTION],
                                    persona_id=persona)
    p1, p2 = pg.studies.join(study["code"], "P01"), pg.studies.join(study["code"], "P02")
    sharer(pg, persona, study_secret, profile_id=p1["profile_id"])
    sharer(pg, persona, fellow_secret, profile_id=p2["profile_id"])
    other = pg.studies.create_study("Other study", "I agree.", [{"mode": "persona"}, {"mode": "global"}], [QUESTION],
                                    persona_id=persona)
    q = pg.studies.join(other["code"], "Q01")
    pg.people.update_profile(q["profile_id"], persona_id=persona)
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]

    workshop_view = seen(pg, bob, "persona")
    assert workshop_secret in workshop_view and study_secret not in workshop_view and fellow_secret not in workshop_view
    participant_view = seen(pg, p1["profile_id"], "persona")
    assert fellow_secret in participant_view, "fellow participants of the same study share with each other"
    assert workshop_secret not in participant_view
    other_study_view = seen(pg, q["profile_id"], "persona")
    assert not {workshop_secret, study_secret, fellow_secret} & set(other_study_view.split())
    assert all(s not in other_study_view for s in (workshop_secret, study_secret, fellow_secret))


def test_opting_out_removes_the_shared_chunk_from_bobs_stored_trace_and_inspector(pg):
    persona, secret = gardeners(pg), marker()
    alice = sharer(pg, persona, secret)
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    session = pg.conversations.new_session(bob)
    for text in (QUESTION, "And in summer?"):
        pg.conversations.start_turn(session["id"], text, "persona").preview_only(LLMError("no model"))
    raw = lambda: json.dumps(pg.db.query("SELECT * FROM traces t JOIN messages m ON m.id = t.message_id "  # noqa
                                         "WHERE t.session_id = ?", (session["id"],)))
    assert secret in raw() and secret in json.dumps(pg.conversations.session_messages(session["id"]))

    pg.people.update_profile(alice, share_with_persona=False)
    assert secret not in raw(), "Bob's stored trace no longer holds Alice's passage"
    inspector = json.dumps(pg.conversations.session_messages(session["id"]))
    assert secret not in inspector and "removed" in inspector
    assert secret not in seen(pg, bob, "persona")
    assert secret in pg.library.sample_text(pg.library.list_samples(alice)[0]["id"]), "Alice keeps her own writing"
    assert pg.library.check_consistency() == []


@pytest.mark.parametrize("when", ["just before the persona copy is written", "just after it is written"])
def test_a_sample_added_while_its_owner_opts_out_does_not_stay_in_the_persona(pg, monkeypatch, when):
    persona, secret = gardeners(pg), marker()
    alice = pg.people.create_profile("Alice", persona_id=persona, share_with_persona=True)["id"]
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    real_add = pg.vectors.add

    def add(name, *args, **kwargs):  # the opt-out (another browser tab) lands while the sample is being stored
        if name == persona_collection(persona) and when.startswith("just before"):
            pg.people.update_profile(alice, share_with_persona=False)
        real_add(name, *args, **kwargs)
        if name == persona_collection(persona) and when.startswith("just after"):
            pg.people.update_profile(alice, share_with_persona=False)

    monkeypatch.setattr(pg.vectors, "add", add)
    pg.library.add_sample(alice, text=f"{GARDEN} My watering trick is {secret}.")
    monkeypatch.setattr(pg.vectors, "add", real_add)
    assert pg.vectors.get(persona_collection(persona), where={"owner_id": alice}) == []
    assert secret not in seen(pg, bob, "persona")
    assert pg.library.check_consistency() == []


def test_deleting_one_shared_sample_removes_only_it_from_bobs_stored_trace(pg):
    persona, kept_secret, gone_secret = gardeners(pg), marker(), marker()
    alice = sharer(pg, persona, kept_secret)
    gone = pg.library.add_sample(alice, text=f"{GARDEN} Water tomatoes at the roots; my other trick is {gone_secret}.",
                         title="second garden note")
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    session = pg.conversations.new_session(bob)
    pg.conversations.start_turn(session["id"], QUESTION, "persona", RetrievalOptions("dense",
                                                                                     k=8)).preview_only(LLMError("x"))
    before = json.dumps(pg.conversations.session_messages(session["id"]))
    assert kept_secret in before and gone_secret in before

    pg.library.delete_sample(gone["id"])
    after = json.dumps(pg.conversations.session_messages(session["id"]))
    assert gone_secret not in after and "second garden note" not in after
    assert kept_secret in after, "the sample she kept sharing stays where it was quoted"


@pytest.mark.parametrize("withdrawal", ["opts out", "is deleted"])
def test_a_turn_answered_while_the_sharer_withdraws_does_not_keep_their_passage(pg, withdrawal):
    persona, secret = gardeners(pg), marker()
    alice = sharer(pg, persona, secret)
    bob = pg.people.create_profile("Bob", persona_id=persona)["id"]
    session = pg.conversations.new_session(bob)
    turn = pg.conversations.start_turn(session["id"], QUESTION, "persona", RetrievalOptions("dense", k=8))
    assert any(secret in h.text for h in turn.hits)
    if withdrawal == "opts out":  # while Bob's answer is still being written
        pg.people.update_profile(alice, share_with_persona=False)
    else:
        pg.people.delete_profile(alice)
    turn.preview_only(LLMError("no model"))
    assert secret not in json.dumps(pg.conversations.session_messages(session["id"]))
    if withdrawal == "is deleted":
        from tests.integration.test_erasure import grep_data_folder

        assert grep_data_folder(pg.settings.data_dir, secret) == []


def test_a_stray_copy_left_in_the_persona_collection_is_never_retrieved(pg):
    """A crash between an opt-out's database write and the removal of the copies leaves vectors behind until repair:
    retrieval must still honour the consent (the dense fast path re-asks with the filter)."""
    import numpy as np

    persona, secret = gardeners(pg), marker()
    alice = pg.people.create_profile("Alice", persona_id=persona)["id"]  # a member who does not share
    pg.library.add_sample(alice, text=f"{GARDEN} My watering trick is {secret}.")
    chunks = pg.vectors.get(f"u-{alice}", embeddings=True)
    pg.vectors.add(persona_collection(persona), [c.id for c in chunks], np.vstack([c.embedding for c in chunks]),
                   [c.text for c in chunks], [c.metadata for c in chunks])
    bob = pg.people.create_profile("Bob", persona_id=persona, share_with_persona=True)["id"]
    assert secret not in seen(pg, bob, "persona")
    assert any("without a record" in p for p in pg.library.check_consistency()), "doctor sees the stray copy"
