"""Bounds on what an uploaded file may expand to, checked before and while it is read.

The upload limit counts bytes as they arrive, but a .docx is a zip and a PDF holds compressed streams: a 325 KB
.docx can hold 200 MB of XML and an 812 KB PDF can hold 5,000 pages of text. Reading such a file whole would take
the server's memory and minutes of CPU for one person's upload. So a file is refused, with a message that says which
bound it crossed, when:

- a .docx's zip central directory (read without inflating anything) declares more entries, more uncompressed bytes,
  or a higher compression ratio than any real document has (checked before any XML is parsed);
- a PDF has more pages than ``max_pages``;
- the text extracted so far passes ``max_chars`` (extraction stops there, so memory stays bounded);
- reading takes longer than ``seconds``.

Python's zipfile never inflates more than an entry's declared size, so the declared sizes are real upper bounds.
A .docx's text is then streamed out of its main document part paragraph by paragraph (``read_docx_text``), so memory
stays flat and the character and time bounds are checked as it goes. (python-docx builds the whole XML tree first:
15 MB of XML took 28 s and 280 MB before a single paragraph could be counted.)
"""

from __future__ import annotations

import io
import posixpath
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.errors import IngestError

if TYPE_CHECKING:
    from playground.settings import Settings

MiB = 1024 * 1024
DOCX_MAX_ENTRIES = 2000          # a long report with many images has a few hundred parts
DOCX_MAX_UNCOMPRESSED = 64 * MiB  # all parts together, as the zip declares them
DOCX_MAX_XML = 32 * MiB          # all XML parts; the main document is streamed, never held as a tree
DOCX_MAX_RATIO = 100             # uncompressed / compressed for a part over 1 MiB; real Word XML is 5-20
_RATIO_FLOOR = MiB               # small parts may compress as well as they like


@dataclass(frozen=True)
class ExpansionLimits:
    """How far one upload may expand. Defaults suit a 10 MiB upload of prose (about four novels of text)."""

    max_chars: int = 2_000_000
    max_pages: int = 1000
    seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: "Settings") -> "ExpansionLimits":
        return cls(settings.max_text_chars, settings.max_pdf_pages, settings.ingest_timeout)

    def start(self, name: str) -> "Budget":
        return Budget(self, name)


class Budget:
    """Counts what one file has produced so far and refuses as soon as a bound is crossed."""

    def __init__(self, limits: ExpansionLimits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.chars = 0
        self._t0 = time.monotonic()

    def add(self, n_chars: int, where: str = "") -> None:
        self.chars += n_chars
        if self.chars > self.limits.max_chars:
            raise IngestError(
                f"{self.name} holds more than {self.limits.max_chars:,} characters of text{where}, more than one "
                f"writing sample may have; reading stopped there and nothing was stored.",
                "Split it into smaller files, or raise PLAYGROUND_MAX_TEXT_CHARS.")
        self.check_time()

    def check_time(self) -> None:
        elapsed = time.monotonic() - self._t0
        if elapsed > self.limits.seconds:
            raise IngestError(f"{self.name} took longer than {self.limits.seconds:g} s to read, so reading stopped and "
                              "nothing was stored.", "Split it into smaller files, or paste its text.")

    def pages(self, n: int) -> None:
        if n > self.limits.max_pages:
            raise IngestError(f"{self.name} has {n:,} pages; at most {self.limits.max_pages:,} are read from one PDF. "
                              "It was not read.",
                              "Split it into smaller files, or raise PLAYGROUND_MAX_PDF_PAGES.")


def check_docx_zip(data: bytes, name: str) -> None:
    """Refuse a .docx whose zip declares more than a real document could hold, before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()  # the central directory only
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as e:
        raise IngestError(f"{name} is not a readable Word document.", "Save it again as .docx, or paste its text.") from e
    hint = "Save it again from Word (or paste its text); a real document is never this large inside."
    if len(infos) > DOCX_MAX_ENTRIES:
        raise IngestError(f"{name} contains {len(infos):,} files inside; a Word document has at most "
                          f"{DOCX_MAX_ENTRIES:,}. It was not read.", hint)
    total = sum(i.file_size for i in infos)
    if total > DOCX_MAX_UNCOMPRESSED:
        raise IngestError(f"{name} would expand to {total / MiB:,.0f} MiB; at most {DOCX_MAX_UNCOMPRESSED // MiB} MiB "
                          "are read from one Word document. It was not read.", hint)
    xml = sum(i.file_size for i in infos if i.filename.endswith((".xml", ".rels")))
    if xml > DOCX_MAX_XML:
        raise IngestError(f"{name} holds {xml / MiB:,.0f} MiB of document XML; at most {DOCX_MAX_XML // MiB} MiB are "
                          "read from one Word document. It was not read.", hint)
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > DOCX_MAX_RATIO * max(i.compress_size, 1):
            ratio = i.file_size / max(i.compress_size, 1)
            raise IngestError(f"{name} is compressed {ratio:,.0f} to 1 inside ({i.filename}), which only a "
                              f"'zip bomb' is; at most {DOCX_MAX_RATIO} to 1 is read. It was not read.", hint)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_BREAKS = {_W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n"}


def _main_part(z: zipfile.ZipFile) -> str:
    """The main document part named by the package's relationships (word/document.xml in files Word writes)."""
    try:
        rels = ET.fromstring(z.read("_rels/.rels"))  # small: the size checks above have run
    except KeyError:
        return "word/document.xml"
    for rel in rels:
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("Target"):
            return posixpath.normpath(rel.get("Target", "").lstrip("/"))
    return "word/document.xml"


def read_docx_text(data: bytes, name: str, budget: Budget) -> str:
    """The text of a .docx, one paragraph per body paragraph (tables included), read as a stream."""
    check_docx_zip(data, name)
    bad = IngestError(f"{name} is not a readable Word document.", "Save it again as .docx, or paste its text.")
    paragraphs: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z, z.open(_main_part(z)) as xml:
            parts: list[str] = []
            stack: list[ET.Element] = []
            for n, (event, el) in enumerate(ET.iterparse(xml, events=("start", "end"))):
                if event == "start":
                    stack.append(el)
                    continue
                stack.pop()
                if el.tag == _W + "t" and el.text:
                    parts.append(el.text)
                elif el.tag in _BREAKS:
                    parts.append(_BREAKS[el.tag])
                elif el.tag == _W + "p":
                    text = "".join(parts)
                    parts = []
                    if text.strip():
                        paragraphs.append(text)
                        budget.add(len(text) + 2)
                if len(stack) == 2:  # a child of w:body is done: drop it, so memory does not grow with the file
                    stack[-1].remove(el)
                if n % 4096 == 0:
                    budget.check_time()
    except IngestError:
        raise
    except (KeyError, ET.ParseError, zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as e:
        raise bad from e
    return "\n\n".join(paragraphs)
