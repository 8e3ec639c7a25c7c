"""The privacy scan finds each kind of personal data, leaves ordinary numbers (versions, years, page ranges) alone,
and redaction leaves nothing of what it found."""

import pytest

from playground.errors import IngestError
from playground.library.ingest import ReadText
from playground.library.privacy_scan import (
    counts,
    describe,
    known_names,
    redact,
    redact_read,
    redaction_default,
    scan,
)


def found(text: str, names=()) -> list[tuple[str, str]]:
    return [(f.type, f.text) for f in scan(text, names)]


@pytest.mark.parametrize("text, kind, value", [
    ("write to jonas.weber+notes@mail.example.org today", "EMAIL", "jonas.weber+notes@mail.example.org"),
    ("Call me on (415) 555-2671 after six.", "PHONE", "(415) 555-2671"),
    ("My mobile is +44 7700 900123.", "PHONE", "+44 7700 900123"),
    ("Ruf an: 030 12345678", "PHONE", "030 12345678"),
    ("The slides are at https://example.org/talk?id=3.", "URL", "https://example.org/talk?id=3"),
    ("see www.example.com/about, thanks", "URL", "www.example.com/about"),
    ("I live at 221 Baker Street, London", "ADDRESS", "221 Baker Street, London"),
    ("Send it to 1600 Pennsylvania Avenue, Washington, DC 20500 please", "ADDRESS",
     "1600 Pennsylvania Avenue, Washington, DC 20500"),
    ("Wir wohnen in der Musterstraße 12, 10115 Berlin.", "ADDRESS", "Musterstraße 12, 10115 Berlin"),
    ("postcode SW1A 1AA", "ADDRESS", "SW1A 1AA"),
    ("my card is 4111 1111 1111 1111 so charge it", "CARD", "4111 1111 1111 1111"),
    ("or 5500-0000-0000-0004 instead", "CARD", "5500-0000-0000-0004"),
    ("IBAN DE89 3704 0044 0532 0130 00 at my bank", "IBAN", "DE89 3704 0044 0532 0130 00"),
    ("pay GB82WEST12345698765432 now", "IBAN", "GB82WEST12345698765432"),
    ("I was born on 12/03/1990 in Leeds", "DOB", "12/03/1990"),
    ("Date of birth: 3 March 1985", "DOB", "3 March 1985"),
    ("my birthday is July 4th, 1990", "DOB", "July 4th, 1990"),
    ("Hello, my name is Priya Raman and I teach.", "NAME", "Priya Raman"),
    ("Dear Maria Lopez,\nthank you", "NAME", "Maria Lopez"),
    ("I spoke to Dr. Okafor yesterday", "NAME", "Okafor"),
    ("See you soon.\nBest regards,\nTomasz Nowak", "NAME", "Tomasz Nowak"),
])
def test_each_recogniser_finds_its_kind(text, kind, value):
    assert (kind, value) in found(text)


@pytest.mark.parametrize("text", [
    "Python 3.11.4 replaced 3.10.12; v1.2.3 and 2.0.0-rc1 are tags.",
    "In 1787 and again in 2024, between 1787-1788, pages 120-135, at 10:30 and 22:15.",
    "Federalist No. 10 cost $1,250.00; 192.168.0.1 is a private address; ISBN 978-3-16-148410-0.",
    "The order 1234567890123 has 13 digits but fails the Luhn check; so does 4111 1111 1111 1112.",
    "On July 4, 1776 the declaration was signed; on 12/03/1990 nothing happened.",
    "Dear Sir, the Union needs a navy. Mr. President, I agree.",
    "Chapter 12 Street Fighting describes 3 roads.",
    "DE89 is not an IBAN and XX00 1234 5678 9012 34 fails its checksum.",
    "We had 2 cats and 3 dogs, 100 percent of the time, with e.g. and i.e. in our notes.",
    "Hello World! Dear Diary, today was long.\nLove,\nMum",
    "ISBN 9783064061064 passes the Luhn check but has no card prefix; order 123456789 and invoice 20240115-003.",
    "Call 911 or 112; coordinates 51.5074, -0.1278; population 3,929,214 in 1790.",
])
def test_ordinary_numbers_dates_and_words_are_not_personal_data(text):
    # "Mr. President" is a title, not a name; "12/03/1990" without a birth cue is just a date.
    assert [f for f in found(text) if f[0] != "NAME" or f[1] not in ("President",)] == []


def test_known_names_are_found_without_a_cue_but_a_study_alias_is_not_a_name():
    text = "Ada Lovelace wrote this. Lovelace likes notes."
    assert found(text, ["Ada Lovelace"]) == [("NAME", "Ada Lovelace"), ("NAME", "Lovelace")]
    assert known_names({"display_name": "Ada Lovelace", "owner_token": ""}) == ["Ada Lovelace"]
    assert known_names({"display_name": "Participant P01", "owner_token": "study:par-1"}) == []


def test_redaction_replaces_every_finding_with_its_typed_placeholder():
    text = ("My name is Jonas Weber, mail jonas.weber@example.org, phone +49 30 1234567, "
            "card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, born 1990-03-12, https://jw.example.org, "
            "and I live at 12 Elm Road.")
    findings = scan(text)
    out = redact(text, findings)
    for secret in ("Jonas", "Weber", "jonas.weber@example.org", "1234567", "4111", "DE89", "1990-03-12",
                   "jw.example.org", "Elm Road"):
        assert secret not in out
    for placeholder in ("[NAME]", "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[DOB]", "[URL]", "[ADDRESS]"):
        assert placeholder in out
    assert counts(findings) == {"EMAIL": 1, "PHONE": 1, "URL": 1, "ADDRESS": 1, "CARD": 1, "IBAN": 1, "DOB": 1,
                                "NAME": 1}
    assert describe(findings).startswith("1 e-mail address, 1 phone number")
    assert scan(out) == [], "placeholders are not personal data themselves"


def test_findings_do_not_overlap_and_point_at_their_text():
    text = "mail me: ann@example.org or visit https://example.org/~ann or call +1 415 555 2671"
    findings = scan(text)
    for f in findings:
        assert text[f.start:f.end] == f.text
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))
    assert [f.type for f in findings] == ["EMAIL", "URL", "PHONE"]


def test_a_text_that_was_only_personal_data_is_refused_not_stored_as_placeholders():
    with pytest.raises(IngestError, match="no writing is left"):
        redact_read(ReadText("jonas@example.org +49 30 1234567", "pasted"))
    read, findings = redact_read(ReadText("Write to me at jonas@example.org about the boats.", "pasted"))
    assert read.text == "Write to me at [EMAIL] about the boats." and len(findings) == 1
    assert "replaced 1 e-mail address" in read.notes[-1]


@pytest.mark.parametrize("setting, preset, study, private, expected", [
    ("auto", "auto", False, False, False),
    ("auto", "auto", True, False, True),
    ("auto", "auto", False, True, True),
    ("on", "auto", False, False, True),
    ("off", "auto", True, False, False),
    ("off", "on", False, False, True),
    ("on", "off", True, True, False),
])
def test_redaction_is_on_by_default_in_studies_and_private_workshops_and_the_preset_wins(
        setting, preset, study, private, expected):
    assert redaction_default(setting, preset, study_participant=study, private_workshop=private) is expected
