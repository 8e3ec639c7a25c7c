"""Privacy scan on the real stores: with redaction on, the original personal data reaches neither SQLite (WAL
included) nor Chroma nor a prompt — checked by grepping the raw bytes of every file in the data folder; bad input
still changes nothing; the defaults follow studies and private workshops; the CLI scans and redacts."""

import json
import random
import uuid

import pytest

from playground import IngestError, InvalidInput
from playground.library.privacy_scan import scan

# Each test using a Playground runs on the embedded store and on a real Chroma server (tests/integration/conftest.py).
VECTOR_BACKENDS = ("local", "server")

BOATS = ("I sail on the estuary every weekend and keep a notebook of the tides. The boat is old but honest, and "
         "the harbour master knows it by the sound of its engine. ")


def unique_contacts() -> tuple[str, str]:
    """An e-mail address and a (valid) phone number that exist nowhere else."""
    email = f"kim.{uuid.uuid4().hex[:12]}@example.org"
    while True:
        phone = f"(415) 555-{random.randint(1000, 9999)}"
        if [f.type for f in scan(f"call {phone}")] == ["PHONE"]:
            return email, phone


def files_containing(folder, needle: str) -> list[str]:
    """Every file under ``folder`` whose raw bytes contain ``needle`` (UTF-8 or UTF-16), SQLite WAL included."""
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if needle.encode() in data or needle.encode("utf-16-le") in data:
                hits.append(str(path.relative_to(folder)))
    return hits


def test_with_redaction_the_original_reaches_no_file_and_no_prompt(pg):
    email, phone = unique_contacts()
    digits = phone[-8:]  # "555-1234": the part no placeholder or other text would contain
    kim = pg.people.create_profile("Kim")
    text = f"{BOATS}Write to me at {email} or call {phone} if the tide turns early.\n\n{BOATS}"
    added = pg.library.add_sample(kim["id"], text=text, title=f"tides, from {email}", redact=True)
    assert added["redacted"] == {"EMAIL": 1, "PHONE": 1}
    assert email not in added["title"]

    stored = pg.library.sample_text(added["id"])
    assert "[EMAIL]" in stored and "[PHONE]" in stored and email not in stored
    _, build, _ = pg.conversations.preview(kim["id"], "Who should I write to when the tide turns early?", "user")
    prompt = json.dumps(build.messages)
    assert "[EMAIL]" in prompt, "the redacted snippet was retrieved into the prompt"
    assert email not in prompt and digits not in prompt

    # The control: the same grep finds an address that was stored without redaction, so it can fail.
    other_email, _ = unique_contacts()
    pg.library.add_sample(kim["id"], text=f"{BOATS} My old address was {other_email}, now closed.", redact=False)
    data = pg.settings.data_dir
    assert files_containing(data, other_email), "the grep of the data folder sees stored text"
    assert files_containing(data, email) == []
    assert files_containing(data, digits) == []


def test_bad_input_with_redaction_gets_a_clear_error_and_changes_nothing(pg):
    kim = pg.people.create_profile("Kim")
    pg.library.add_sample(kim["id"], text=BOATS, redact=True)
    before = (pg.library.list_samples(kim["id"]), pg.vectors.ids(f"u-{kim['id']}"), pg.library.check_consistency())
    email, phone = unique_contacts()
    with pytest.raises(IngestError, match="no writing is left"):
        pg.library.add_sample(kim["id"], text=f"{email}\n{phone}", redact=True)
    with pytest.raises(IngestError, match="binary"):
        pg.library.add_sample(kim["id"], filename="notes.txt", data=b"\x00\x01\x02" * 400, redact=True)
    with pytest.raises(InvalidInput, match="already in your samples"):
        pg.library.add_sample(kim["id"], text=BOATS, redact=True)
    assert (pg.library.list_samples(kim["id"]), pg.vectors.ids(f"u-{kim['id']}"), pg.library.check_consistency()) == before
    assert files_containing(pg.settings.data_dir, email) == []


def test_redaction_is_on_by_default_for_study_participants_and_private_workshops(pg):
    email, _ = unique_contacts()
    text = f"{BOATS} Reach me at {email}."
    public = pg.people.create_profile("Kim")
    assert pg.library.redaction_default(public["id"]) is False
    assert email in pg.library.sample_text(pg.library.add_sample(public["id"],
                                                                 text=text)["id"]), "a public demo stores as given"

    study = pg.studies.create_study("Pilot", "I agree.", [{"mode": "user"}, {"mode": "global"}], ["Plan my weekend."])
    participant = pg.studies.join(study["code"], "P01")
    pg.studies.consent(participant["id"])
    assert pg.library.redaction_default(participant["profile_id"]) is True
    s = pg.library.add_sample(participant["profile_id"], text=text)
    assert email not in pg.library.sample_text(s["id"]) and s["redacted"] == {"EMAIL": 1}

    pg.workshop.set_preset({"private_profiles": True})
    mine = pg.people.create_profile("Sam", owner_token="browser-1")
    assert pg.library.redaction_default(mine["id"]) is True
    pg.workshop.set_preset({"private_profiles": True, "redact_uploads": "off"})
    assert pg.library.redaction_default(mine["id"]) is False, "the preset can switch it off"
    with pytest.raises(InvalidInput, match="'auto', 'on' or 'off'"):
        pg.workshop.set_preset({"redact_uploads": "maybe"})
    assert pg.library.redaction_default(mine["id"]) is False, "a bad preset changes nothing"


def test_the_profile_name_is_redacted_but_a_study_alias_is_left_alone(pg):
    ada = pg.people.create_profile("Ada Quillfeather")
    s = pg.library.add_sample(ada["id"], text=f"{BOATS} Ada Quillfeather, skipper. Yours, Quillfeather", redact=True)
    stored = pg.library.sample_text(s["id"])
    assert "Quillfeather" not in stored and stored.count("[NAME]") == 2


def test_cli_scan_lists_findings_per_file_and_samples_add_redact_stores_the_redacted_text(cli, tmp_path):
    email, phone = unique_contacts()
    letter = tmp_path / "letter.txt"
    letter.write_text(f"{BOATS}\nMail {email}, phone {phone}, card 4111 1111 1111 1111.\n")
    clean = tmp_path / "clean.md"
    clean.write_text("Version 3.11.4 shipped in 2024 with 120 fixes; nothing personal here at all.")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01" * 100)
    out = json.loads(cli("scan", str(letter), str(clean), str(binary)).stdout)
    assert [o["file"] for o in out] == [str(letter), str(clean), str(binary)]
    letter_findings = out[0]["findings"]
    assert [(f["type"], f["text"]) for f in letter_findings] == [("EMAIL", email), ("PHONE", phone),
                                                                ("CARD", "4111 1111 1111 1111")]
    assert all({"type", "start", "end", "text"} == set(f) for f in letter_findings)
    assert out[1]["findings"] == [] and "binary" in out[2]["error"]
    assert not (tmp_path / "data" / "playground.sqlite3").exists(), "scanning stores nothing"
    named = json.loads(cli("scan", str(clean), "--name", "Version Shipped").stdout)
    # A known name is found without a cue, and in any case ("dana" is Dana: privacy_scan's NAME rule since the
    # redaction-misses fix), so the lower-case "shipped" is a finding too.
    assert [f["text"] for f in named[0]["findings"]] == ["Version", "shipped"], "a --name is found without a cue"
    failed = cli("scan", str(binary), ok=False)
    assert failed.returncode == 1 and "binary" in failed.stdout

    user = json.loads(cli("users", "add", "Kim").stdout)
    added = json.loads(cli("samples", "add", user["id"], str(letter), "--redact").stdout)
    assert added[0]["redacted"] == {"EMAIL": 1, "PHONE": 1, "CARD": 1}
    hits = json.loads(cli("retrieve", user["id"], "mail phone card", "--k", "5").stdout)
    assert any("[EMAIL]" in h["text"] for h in hits)
    assert files_containing(tmp_path / "data", email) == []
    assert files_containing(tmp_path / "data", "4111 1111") == []
