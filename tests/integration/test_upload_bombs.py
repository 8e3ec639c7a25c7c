"""Files that are small to upload but huge to read: each bomb is built here, then added through the real
Playground in a separate process that has a memory ceiling (RLIMIT_AS: what it has mapped after start-up plus
768 MiB) and a wall-clock timeout. Each must be refused with a message that says which bound it crossed, and the
data already stored must be intact afterwards."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT
from tests.support_files import docx_with

GOOD = "The lighthouse keeper logs the weather at dawn and dusk, and the ships reply with their lamps."
TIMEOUT_S = 150  # a ceiling for a slow shared machine; before the bounds these ran for minutes or exhausted memory
HEADROOM = 768 * 1024 * 1024

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from playground import Playground, PlaygroundError, Settings

pg = Playground(Settings.from_env())
user = pg.people.list_profiles()[0]
vm = next(int(line.split()[1]) * 1024 for line in Path("/proc/self/status").read_text().splitlines()
          if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + int(sys.argv[2]), resource.RLIM_INFINITY))
path = Path(sys.argv[1])
t0 = time.monotonic()
try:
    pg.library.add_sample(user["id"], filename=path.name, data=path.read_bytes())
    out = {"stored": True}
except PlaygroundError as e:
    out = {"refused": str(e), "type": type(e).__name__}
except MemoryError:
    out = {"memory_error": True}
out["seconds"] = time.monotonic() - t0
print(json.dumps(out))
"""


def _docx_with_document_xml(write_body) -> bytes:
    """A real .docx whose word/document.xml is replaced by one streamed from ``write_body(file)``."""
    base = zipfile.ZipFile(io.BytesIO(docx_with(["placeholder"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, base.read(info.filename))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.'
                    b'openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            write_body(f)
            f.write(b"</w:body></w:document>")
    return out.getvalue()


def docx_zip_bomb() -> bytes:
    """One paragraph of 200 MB of 'a': a few hundred KB zipped."""
    def body(f):
        f.write(b"<w:p><w:r><w:t>")
        block = b"a" * (1 << 20)
        for _ in range(200):
            f.write(block)
        f.write(b"</w:t></w:r></w:p>")
    return _docx_with_document_xml(body)


def docx_repeated_text() -> bytes:
    """The same sentence as 200,000 paragraphs: 25 MB of XML in about 100 KB, minutes of work for python-docx."""
    para = f"<w:p><w:r><w:t>{GOOD}</w:t></w:r></w:p>".encode()

    def body(f):
        chunk = para * 1000
        for _ in range(200):
            f.write(chunk)
    return _docx_with_document_xml(body)


def docx_huge_text() -> bytes:
    """Ordinary-looking prose (random words, normal compression) whose text is over the character limit."""
    rng = random.Random(7)
    words = [("".join(rng.choice("etaoinshrdlucmfwyp") for _ in range(rng.randint(2, 9)))) for _ in range(3000)]

    def body(f):
        for _ in range(30_000):
            f.write(f"<w:p><w:r><w:t>{' '.join(rng.choices(words, k=16))}.</w:t></w:r></w:p>".encode())
    return _docx_with_document_xml(body)


def pdf_many_pages(pages: int = 5000) -> bytes:
    """5,000 small pages, each with a line of text, sharing one content stream: under 1 MB."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    font = w._add_object(DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                           NameObject("/Subtype"): NameObject("/Type1"),
                                           NameObject("/BaseFont"): NameObject("/Helvetica")}))
    stream = DecodedStreamObject()
    stream.set_data(("BT /F1 9 Tf 20 700 Td 11 TL " + " ".join(f"({GOOD}) Tj T*" for _ in range(40)) + " ET").encode())
    content = w._add_object(stream)
    for _ in range(pages):
        page = w.add_blank_page(612, 792)
        page[NameObject("/Contents")] = content
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


BOMBS = {  # name → (builder, words the refusal must contain)
    "zip-bomb.docx": (docx_zip_bomb, "would expand to"),
    "repeated.docx": (docx_repeated_text, "to 1 inside"),
    "huge-text.docx": (docx_huge_text, "characters of text"),
    "5000-pages.pdf": (pdf_many_pages, "5,000 pages"),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_an_upload_bomb_is_refused_within_a_memory_and_time_ceiling(pg, settings, tmp_path, name):
    user = pg.people.create_profile("Ada")
    pg.library.add_sample(user["id"], text=GOOD, title="lighthouse")
    before = (pg.library.list_samples(user["id"]), pg.db.one("SELECT count(*) AS n FROM chunks")["n"])
    builder, must_say = BOMBS[name]
    data = builder()
    assert len(data) < 2 * 1024 * 1024, "the bomb is small enough to pass the upload limit"
    path = tmp_path / name
    path.write_bytes(data)
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(settings.data_dir), "PLAYGROUND_LLM_BACKEND": "openai",
           "PLAYGROUND_OPENAI_BASE_URL": settings.openai_base_url}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), str(HEADROOM)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out.get("type") == "IngestError", out
    assert must_say in out["refused"], out["refused"]
    assert len(out["refused"]) < 400
    assert (pg.library.list_samples(user["id"]), pg.db.one("SELECT count(*) AS n FROM chunks")["n"]) == before
    assert pg.library.check_consistency() == []
