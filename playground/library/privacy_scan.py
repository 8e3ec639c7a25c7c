"""Privacy scan: find personal data in a writing sample before it is chunked, embedded and stored.

Why: whatever a sample contains can reach the vector store and, through retrieval, a prompt. People paste e-mails
and letters with addresses, phone numbers and signatures in them. The scan shows what is there; ``redact`` replaces
each finding with a typed placeholder (``[EMAIL]``, ``[PHONE]`` ...) so that only the redacted text is stored.

What finds what (all offline, nothing downloaded at run time):

- EMAIL, URL: regular expressions.
- PHONE: Google's libphonenumber (the ``phonenumbers`` package): numbers valid in the US, UK, Germany or France,
  and any possible number written with a ``+`` country code; at least seven digits.
- CARD: 13–19 digits (spaces or dashes allowed) with a card network's issuer prefix that pass the Luhn checksum
  (``python-stdnum``).
- IBAN: country code, check digits and account, validated with the IBAN mod-97 checksum (``python-stdnum``).
- DOB: a date written after a cue such as "born", "date of birth", "DOB" or "birthday". Other dates are left alone:
  an essay's "July 4, 1776" is not personal data.
- ADDRESS: street addresses (house number, street name and a street word such as Street/Road/Ave, or a German
  "…straße 12"), optionally with city, state and ZIP; UK postcodes.
- NAME: *no statistical model*: names are found by cues ("my name is", "I'm", "this is", "Dear", "Mr/Ms/Dr", a
  sign-off such as "Regards," or "Warm wishes," followed by a name on the same or the next line, "Letter/Note/
  Message to …" as in a sample's title) and by the names the caller already knows (the profile's own name, in any
  case: "dana" is Dana). A name
  without such a cue is missed; say so to users. (Presidio and spaCy would need a model that is not installable
  from the package registry here.)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn

from playground.errors import IngestError, PlaygroundError
from playground.library.ingest import ReadText, read_bytes
from playground.people.owner import Owner

TYPES: tuple[str, ...] = ("EMAIL", "PHONE", "URL", "ADDRESS", "CARD", "IBAN", "DOB", "NAME")
LABELS: dict[str, tuple[str, str]] = {  # (one, several), for people
    "EMAIL": ("e-mail address", "e-mail addresses"), "PHONE": ("phone number", "phone numbers"),
    "URL": ("web address", "web addresses"), "ADDRESS": ("postal address", "postal addresses"),
    "CARD": ("payment card number", "payment card numbers"), "IBAN": ("bank account (IBAN)", "bank accounts (IBAN)"),
    "DOB": ("date of birth", "dates of birth"), "NAME": ("name", "names")}
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR")
# When two findings overlap, the earlier type in this order wins (an e-mail contains something URL-like, etc.).
_PRIORITY = {t: n for n, t in enumerate(("EMAIL", "URL", "IBAN", "CARD", "DOB", "PHONE", "ADDRESS", "NAME"))}
_PLACEHOLDER = re.compile(r"\[(?:%s)\]" % "|".join(TYPES))


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its type, where it is in the text (``text[start:end]``) and the text found."""

    type: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
           r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|"
         rf"{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTHS}\.?,? \d{{4}})")
_DOB = re.compile(rf"\b(?:born(?: on)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday(?: is)?)\s*[:\-–]?\s*"
                  rf"(?:(?:on|is|was)\s+)?(?P<date>{_DATE})", re.I)
_STREET_WORDS = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|"
                 r"Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy)\.?")
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,? (?:[A-Z][a-z]+ ){{1,3}}{_STREET_WORDS}"
    r"(?:,? (?:Apt|Suite|Unit|Flat)\.? ?\w+)?"
    r"(?:,? [A-Z][a-z]+(?: [A-Z][a-z]+)?(?:,? [A-Z]{2})?(?:,? \d{5}(?:-\d{4})?)?)?\b")
_DE_ADDRESS = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm) \d{1,4}[a-z]?"
                         r"(?:,? \d{5} [A-ZÄÖÜ][a-zäöüß]+)?")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b")
_NAME = r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
_FULL_NAME = rf"{_NAME}(?: [A-Z]\.)?(?: {_NAME}){{0,2}}"
_SIGN_OFFS = (r"(?:Regards|Best regards|Kind regards|Warm regards|Warmest regards|Sincerely|Yours sincerely|"
              r"Yours truly|Yours faithfully|Yours|Best wishes|Warm wishes|Warmest wishes|Warmly|All the best|"
              r"Take care|Cheers|Thanks|Many thanks|Thank you|Best|Love|Lots of love|With love|Hugs|Cordially|"
              r"Respectfully|See you|Speak soon|Talk soon|Ciao|Bye)")
_NAME_CUES = re.compile(
    rf"(?:\b(?:[Mm]y name is|[Nn]ame:|I am called|I'm called|I’m called|[Cc]all me|[Ss]igned,?)\s+(?P<a>{_FULL_NAME})"
    rf"|\b(?:Dear|Hi|Hello|Hey)\s+(?P<b>{_FULL_NAME})(?=\s*[,!:\n])"
    rf"|\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+(?P<c>{_FULL_NAME})"
    # a sign-off, then the name on the next line or after the comma ("Warm wishes, Jonas")
    rf"|\b{_SIGN_OFFS}(?:,?\s*\n\s*|,[ \t]*|[ \t]*[-–—][ \t]*)(?P<d>{_FULL_NAME})\b"
    # introducing oneself: "I'm Dana", "I am Dana", "this is Dana"
    rf"|(?:\b[Ii]'m|\b[Ii]’m|\b[Ii] am|\b[Tt]his is|\b[Ii]t's|\b[Ii]t’s)\s+(?P<e>{_FULL_NAME})\b"
    # a letter or message to someone, as in a sample's title ("Letter to Maria")
    rf"|\b(?:[Ll]etter|[Nn]ote|[Mm]essage|[Ee]-?mail|[Cc]ard|[Pp]ostcard|[Rr]eply|[Tt]ext|[Ww]ritten|[Pp]oem|"
    rf"[Ss]peech|[Tt]oast|[Ee]ulogy|[Cc]hat|[Cc]onversation|[Cc]all) (?:to|for|from|with|about) "
    rf"(?:(?:my|our) (?:[a-z]+ )?)?(?P<f>{_FULL_NAME})\b)")
# Words that follow a cue but are not names ("Dear Sir", "Hi All", "Call me Tomorrow").
_NOT_NAMES = {"Sir", "Madam", "All", "Everyone", "Team", "There", "Friends", "Colleagues", "Tomorrow", "Today",
              "Maybe", "Soon", "Later", "The", "This", "That", "Customer", "Reader", "Readers", "Fellow", "Citizens",
              "Participant", "Participants", "Anonymous", "Again", "Back", "World", "Diary", "Me", "You", "Everybody",
              "Folks", "Guys", "Mum", "Mom", "Dad", "Mother", "Father", "Grandma", "Grandpa", "Darling", "Honey",
              # what follows "I'm", "this is", "Letter to" without being a name
              "Not", "So", "Very", "Just", "Really", "Here", "Going", "Glad", "Happy", "Fine", "Okay", "Ok", "Sorry",
              "Still", "Also", "Afraid", "Sure", "Writing", "Sending", "A", "An", "It", "My", "Our", "Your", "What",
              "Why", "How", "When", "Where", "Who", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
              "Saturday", "Sunday", "God", "English", "American", "British", "French", "German", "Always", "Never",
              "Yes", "No", "All", "Editor", "Myself", "Self", "Future", "Younger", "Older", "Everyone", "Him", "Her",
              "Them", "Us", "Hope", "Thinking", "Looking", "Done", "Tired", "Home", "Late", "Ready", "Well", "Good",
              "Great", "Thrilled", "Excited", "Proud", "Honoured", "Honored", "Delighted", "Pleased", "Federalist"}
# Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners, Maestro, UnionPay): a Luhn-valid
# number without one (an ISBN-13, an order number) is not taken for a card.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|6(?:011|5|4[4-9]|2)|35(?:2[89]|[3-8])|"
                          r"3(?:0[0-5]|[689])|5[06-9]|6\d)")


def _phones(text: str) -> Iterable[Finding]:
    seen: set[tuple[int, int]] = set()
    # Numbers valid in one of the regions; and anything written with a +country code that could be a number
    # (libphonenumber calls e.g. the UK's drama range "+44 7700 900123" invalid, but a reader would still call it).
    passes = [(r, phonenumbers.Leniency.VALID, False) for r in PHONE_REGIONS] + [
        ("US", phonenumbers.Leniency.POSSIBLE, True)]
    for region, leniency, plus_only in passes:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if plus_only and not m.raw_string.startswith("+"):
                continue
            # At least seven digits: some regions accept four-digit numbers, and "1688" is a year in an essay.
            if (m.start, m.end) not in seen and sum(ch.isdigit() for ch in m.raw_string) >= 7:
                seen.add((m.start, m.end))
                yield Finding("PHONE", m.start, m.end, m.raw_string)


def _cards(text: str) -> Iterable[Finding]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _CARD_PREFIX.match(digits) and _luhn.is_valid(digits):
            yield Finding("CARD", m.start(), m.end(), m.group())


def _ibans(text: str) -> Iterable[Finding]:
    for m in _IBAN.finditer(text):
        value = m.group()
        # The regex may run on into the following word; take the longest prefix that validates.
        for end in range(len(value), 14, -1):
            candidate = value[:end].rstrip()
            if _iban.is_valid(candidate):
                yield Finding("IBAN", m.start(), m.start() + len(candidate), candidate)
                break


def _names(text: str, known_names: Sequence[str]) -> Iterable[Finding]:
    for m in _NAME_CUES.finditer(text):
        group = next(g for g in "abcdef" if m.group(g))
        words = m.group(group).split(" ")
        while words and words[-1].rstrip(".") in _NOT_NAMES:
            words.pop()
        if words and words[0] not in _NOT_NAMES:
            start = m.start(group)
            value = " ".join(words)
            yield Finding("NAME", start, start + len(value), value)
    for name in known_names:
        # The person's own name in any case ("dana" in a hurried message is still Dana).
        parts = {name.strip(), *(w for w in name.split() if len(w) >= 3 and w[:1].isupper())}
        for part in sorted((p for p in parts if p and p not in _NOT_NAMES), key=len, reverse=True):
            for m in re.finditer(rf"(?<!\w){re.escape(part)}(?!\w)", text, re.I):
                yield Finding("NAME", m.start(), m.end(), m.group())


def scan(text: str, known_names: Sequence[str] = ()) -> list[Finding]:
    """Every piece of personal data found in ``text``, in order, without overlaps (see the module docstring for how
    each type is found). ``known_names``: names already known to belong to the person (e.g. their profile name)."""
    found: list[Finding] = []
    found += [Finding("EMAIL", m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]
    for m in _URL.finditer(text):
        url = m.group().rstrip(".,;:!?")  # the full stop ending a sentence is not part of the address
        found.append(Finding("URL", m.start(), m.start() + len(url), url))
    found += list(_ibans(text))
    found += list(_cards(text))
    found += [Finding("DOB", m.start("date"), m.end("date"), m.group("date")) for m in _DOB.finditer(text)]
    found += list(_phones(text))
    for rx in (_ADDRESS, _DE_ADDRESS, _UK_POSTCODE):
        found += [Finding("ADDRESS", m.start(), m.end(), m.group()) for m in rx.finditer(text)]
    found += list(_names(text, known_names))
    found = [f for f in found if not _PLACEHOLDER.fullmatch(f.text)]
    # Keep the most important finding where two overlap; among equals, the longer.
    found.sort(key=lambda f: (_PRIORITY[f.type], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def redact(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with every finding replaced by its typed placeholder (``[EMAIL]``, ``[PHONE]`` ...)."""
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        out.append(text[pos:f.start])
        out.append(f"[{f.type}]")
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """How many findings of each type, in the order of ``TYPES`` (types not found are left out)."""
    return {t: n for t in TYPES if (n := sum(1 for f in findings if f.type == t))}


def describe(findings: Sequence[Finding]) -> str:
    """'2 e-mail addresses, 1 phone number' — for people."""
    parts = [f"{n} {LABELS[t][n != 1]}" for t, n in counts(findings).items()]
    return ", ".join(parts) if parts else "no personal data"


def letters_left(text: str) -> int:
    """Letters outside placeholders: a text that was nothing but personal data has none left to learn from."""
    return sum(ch.isalpha() for ch in _PLACEHOLDER.sub("", text))


REDACT_CHOICES: tuple[str, ...] = ("auto", "on", "off")


def redaction_default(setting: str, preset: str, *, study_participant: bool, private_workshop: bool) -> bool:
    """Whether a new sample is redacted unless the person chooses otherwise. The workshop preset wins over the
    ``PLAYGROUND_REDACT_UPLOADS`` setting; where both say 'auto', redaction is on for study participants and in
    private workshops (people who did not choose to be on a shared demo) and off elsewhere."""
    for choice in (preset, setting):
        if choice in ("on", "off"):
            return choice == "on"
    return study_participant or private_workshop


def known_names(profile: dict[str, Any]) -> list[str]:
    """The names a profile already tells us (its display name), except a study's made-up 'Participant P01'."""
    if Owner.of(profile).is_study:
        return []
    name = str(profile.get("display_name", "")).strip()
    return [name] if name else []


def redact_read(read: ReadText, names: Sequence[str] = ()) -> tuple[ReadText, list[Finding]]:
    """A read sample with its personal data replaced (and a note saying what), plus what was found. Raises
    ``IngestError`` if nothing but personal data was in it, so nothing is stored."""
    findings = scan(read.text, names)
    if not findings:
        return read, []
    text = redact(read.text, findings)
    if letters_left(text) < 3:
        raise IngestError("After replacing the personal data in it, no writing is left.",
                          "Nothing was stored. Add a text with some of your own writing in it.")
    return ReadText(text, read.kind, [*read.notes, f"replaced {describe(findings)} with placeholders"]), findings


def scan_files(files: Sequence[Path], names: Sequence[str], max_upload_bytes: int) -> tuple[list[dict[str, Any]], int]:
    """Findings per file (type, start, end, text; positions in the text as the playground reads it, after
    cleaning), and how many files could not be read. Needs no stores and no models."""
    out: list[dict[str, Any]] = []
    failed = 0
    for f in files:
        try:
            read = read_bytes(f.read_bytes(), f.name, max_upload_bytes)
        except OSError as e:
            failed += 1
            out.append({"file": str(f), "error": f"{f} cannot be read: {e.strerror}."})
            continue
        except PlaygroundError as e:
            failed += 1
            out.append({"file": str(f), "error": str(e)})
            continue
        findings = scan(read.text, names)
        out.append({"file": str(f), "chars": len(read.text), "counts": counts(findings),
                    "findings": [x.to_dict() for x in findings]})
    return out, failed
