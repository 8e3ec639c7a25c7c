"""Reading writing samples: bytes or pasted text → clean text → token-measured chunks.

Everything here is pure (no storage), so a bad file raises ``IngestError`` before anything is written.
Supported: .txt, .md, .pdf (pypdf), .docx (streamed, see bounded.py) and pasted text.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import islice
from pathlib import PurePath
from typing import Callable

from playground.errors import IngestError
from playground.library.bounded import Budget, ExpansionLimits, MiB, read_docx_text

TEXT_TYPES = {".txt", ".md", ".markdown", ".text"}
SUPPORTED = sorted(TEXT_TYPES | {".pdf", ".docx"})
# Zero-width and byte-order marks carry no meaning in prose and break token matching (BM25) silently.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONG_RUN = 2000  # characters without white space: not prose
# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar): each of their
# characters counts as a word boundary when looking for runs that are not prose.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
                       "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002ffff]")
_MOJIBAKE = re.compile(  # UTF-8 bytes read as Windows-1252: "Ã©", "â€™" ...
    "[ÃÂâ][\u0080-\u00bf\u2018-\u203a\u20ac\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc]")


@dataclass
class ReadText:
    text: str
    kind: str
    notes: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def normalise(text: str) -> str:
    """NFC, no invisible or control characters, tidy white space, paragraphs kept."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["read as UTF-16"]
        except UnicodeDecodeError as e:
            raise IngestError(f"{name} says it is UTF-16 but is damaged.", "Save it again as UTF-8.") from e
    if b"\x00" in data[:4096] or _binary_share(data) > 0.1:
        raise IngestError(f"{name} looks like a binary file, not text.",
                          f"Upload writing as {', '.join(SUPPORTED)}, or paste it.")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise IngestError(f"{name} is not UTF-8 text and could not be read.",
                              "Open it in an editor and save it as UTF-8.") from e
        if _MOJIBAKE.search(text):
            raise IngestError(f"{name} mixes text encodings (part UTF-8, part something else).",
                              "Open it in an editor and save it as UTF-8.") from e
        return text, ["read as Windows-1252 (it was not UTF-8)"]


def _binary_share(data: bytes) -> float:
    head = data[:4096]
    if not head:
        return 0.0
    bad = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bad / len(head)


def _read_pdf(data: bytes, name: str, budget: Budget) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as e:
                raise IngestError(f"{name} is password-protected.", "Remove the password and upload it again.") from e
            if not ok:
                raise IngestError(f"{name} is password-protected.", "Remove the password and upload it again.")
        budget.pages(len(reader.pages))
        pages = []
        for n, page in enumerate(reader.pages, 1):  # stop as soon as the text is too long or too slow
            pages.append(page.extract_text() or "")
            budget.add(len(pages[-1]), f" by page {n:,}")
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as e:
        raise IngestError(f"{name} is not a readable PDF (it may be damaged or cut short).",
                          "Export it again, or paste its text.") from e
    except Exception as e:  # pypdf raises many private exception types on damaged files
        raise IngestError(f"{name} is not a readable PDF ({type(e).__name__}).",
                          "Export it again, or paste its text.") from e
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise IngestError(f"{name} has no text layer (it is probably a scan).",
                          "Run it through OCR first, or paste its text.")
    return text


def _read_docx(data: bytes, name: str, budget: Budget) -> str:
    return read_docx_text(data, name, budget)  # bounded: see bounded.py


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def _over_limit(what: str, size: int, max_bytes: int) -> str:
    """'X is 10.0 MiB; the limit is 10.0 MiB' reads as a contradiction: show bytes when the rounding hides it."""
    if _size(size) == _size(max_bytes):
        over = size - max_bytes
        return (f"{what} is {size:,} bytes, {over:,} byte{'s' if over > 1 else ''} too many: the limit is "
                f"{max_bytes:,} bytes ({_size(max_bytes)}).")
    return f"{what} is {_size(size)}; the limit is {_size(max_bytes)} ({max_bytes:,} bytes)."


def read_bytes(data: bytes, filename: str, max_bytes: int, limits: ExpansionLimits | None = None) -> ReadText:
    """Turn an uploaded file into clean text, or raise ``IngestError`` saying why not. ``limits`` bound what the
    file may expand to (pages, characters, time); see bounded.py."""
    name = PurePath(filename).name or "The file"
    ext = PurePath(filename).suffix.lower()
    if len(data) > max_bytes:
        raise IngestError(_over_limit(name, len(data), max_bytes),
                          "Split it into smaller files, or raise PLAYGROUND_MAX_UPLOAD_MB.")
    budget = (limits or ExpansionLimits()).start(name)
    if not data:
        raise IngestError(f"{name} is empty.", "Choose a file with some writing in it.")
    if ext not in SUPPORTED:
        raise IngestError(f"{name}: files of type '{ext or 'none'}' are not supported.",
                          f"Use {', '.join(SUPPORTED)}, or paste the text.")
    notes: list[str] = []
    if ext == ".pdf":
        if not data.startswith(b"%PDF"):
            raise IngestError(f"{name} does not look like a PDF.", "Check the file, or paste its text.")
        raw, kind = _read_pdf(data, name, budget), "pdf"
    elif ext == ".docx":
        raw, kind = _read_docx(data, name, budget), "docx"
    else:
        raw, notes = _decode(data, name)
        kind = "markdown" if ext in (".md", ".markdown") else "text"
        budget.add(len(raw))
    return ReadText(check_text(raw, name), kind, notes)


def read_pasted(text: str, max_bytes: int, limits: ExpansionLimits | None = None) -> ReadText:
    size = len(text.encode("utf-8", "replace"))
    if size > max_bytes:
        raise IngestError("The pasted text is longer than the limit. " + _over_limit("It", size, max_bytes),
                          "Paste it in parts.")
    (limits or ExpansionLimits()).start("The pasted text").add(len(text))
    return ReadText(check_text(text, "The pasted text"), "pasted")


def check_text(raw: str, name: str) -> str:
    text = normalise(raw)
    if not text:
        raise IngestError(f"{name} has no text in it (only white space).", "Choose a file with some writing in it.")
    if sum(1 for _ in islice((ch for ch in text if ch.isalpha()), 3)) < 3:  # stop at the third letter
        raise IngestError(f"{name} has almost no letters in it, so there is no writing to learn from.")
    longest = max((len(w) for w in _UNSPACED.sub(" ", text).split()), default=0)
    if longest > _LONG_RUN:
        raise IngestError(f"{name} has a run of {longest:,} characters without a space; it doesn't look like writing.",
                          "Upload prose: essays, messages, posts.")
    return text


def title_from(filename: str | None, text: str) -> str:
    if filename:
        stem = PurePath(filename).stem.replace("_", " ").strip()
        if stem:
            return stem[:120]
    first = text.strip().split("\n", 1)[0]
    return (first[:60] + "…") if len(first) > 60 else first


class Chunker:
    """LangChain's recursive splitter, measuring length in the embedding model's tokens."""

    def __init__(self, count_tokens: Callable[[str], int], chunk_tokens: int, overlap: int) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.count_tokens = count_tokens
        self.chunk_tokens, self.overlap = chunk_tokens, overlap
        self._splitter_class = RecursiveCharacterTextSplitter

    def split(self, text: str) -> list[str]:
        # The splitter measures each piece two or three times (to split, to merge, to overlap): count each once.
        # A splitter per call keeps the counts (and the text in them) to this call, and calls in threads apart.
        counts: dict[str, int] = {}

        def count(piece: str) -> int:
            n = counts.get(piece)
            if n is None:
                n = counts[piece] = self.count_tokens(piece)
            return n

        splitter = self._splitter_class(
            chunk_size=self.chunk_tokens, chunk_overlap=self.overlap, length_function=count,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""], keep_separator="end",
        )
        return [c.strip() for c in splitter.split_text(text) if c.strip()]
