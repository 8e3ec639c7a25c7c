"""Reading writing samples: supported types work; bad input raises a clear IngestError (checked here with no storage;
the integration tier checks that nothing is stored)."""

import pytest

from playground import IngestError
from playground.library.ingest import Chunker, normalise, read_bytes, read_pasted
from playground.models.embeddings import Tokenizer, default_model_path
from tests.support_files import docx_with, pdf_blank, pdf_encrypted, pdf_with_text

MB = 1024 * 1024
PROSE = "The committee met on Tuesday. We argued about the budget, then agreed to meet again.\n\nA second paragraph."


def test_plain_text_markdown_pdf_and_docx_are_read():
    assert "committee" in read_bytes(PROSE.encode(), "notes.txt", MB).text
    assert read_bytes(b"# Title\n\nSome *markdown* prose here.", "post.md", MB).kind == "markdown"
    pdf = read_bytes(pdf_with_text(["Letters from the harbour town.", "The boats came in late."]), "a.pdf", MB)
    assert "harbour" in pdf.text and pdf.kind == "pdf"
    doc = read_bytes(docx_with(["First paragraph of my essay.", "Second one."]), "essay.docx", MB)
    assert "Second one." in doc.text and doc.kind == "docx"


def test_windows_1252_text_is_read_and_says_so():
    r = read_bytes("Café menus are naïve about prices.".encode("cp1252"), "menu.txt", MB)
    assert "Café" in r.text and any("Windows-1252" in n for n in r.notes)


def test_utf16_with_bom_is_read():
    assert "hello" in read_bytes("hello there, world".encode("utf-16"), "u16.txt", MB).text


@pytest.mark.parametrize("data,name,message", [
    (b"", "empty.txt", "is empty"),
    (b"   \n\t  \n", "blank.txt", "only white space"),
    (bytes(range(256)) * 20, "blob.txt", "binary"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "photo.png", "not supported"),
    (PROSE.encode(), "script.exe", "not supported"),
    (PROSE.encode(), "noextension", "not supported"),
    (("Caf\u00e9 ".encode("utf-8") + "na\u00efve ".encode("cp1252")) * 10, "mixed.txt", "mixes text encodings"),
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "truncated.pdf", "not a readable PDF"),
    (b"just text pretending", "fake.pdf", "does not look like a PDF"),
    (b"PK\x03\x04 not really a zip", "broken.docx", "not a readable Word document"),
    (b"x" * (MB + 1), "huge.txt", "the limit is"),
    (b"a" * 5000, "longline.txt", "without a space"),
    (b"12345 67890 ... ---", "numbers.txt", "almost no letters"),
])
def test_bad_files_are_refused_with_a_clear_reason(data, name, message):
    with pytest.raises(IngestError, match=message) as e:
        read_bytes(data, name, MB)
    assert name.split(".")[0] in str(e.value) or "file" in str(e.value).lower()


def test_pdf_without_text_layer_and_encrypted_pdf():
    with pytest.raises(IngestError, match="no text layer"):
        read_bytes(pdf_blank(), "scan.pdf", MB)
    with pytest.raises(IngestError, match="password"):
        read_bytes(pdf_encrypted(["secret plans"]), "locked.pdf", MB)


def test_normalise_removes_invisible_characters_but_keeps_paragraphs_and_rtl():
    text = normalise("Hel\u200blo\u00a0 world\r\n\r\n\r\n\r\nשלום עולם\x07")
    assert text == "Hello world\n\nשלום עולם"


def test_pasted_text_limits():
    with pytest.raises(IngestError, match="only white space"):
        read_pasted(" \n ", MB)
    with pytest.raises(IngestError, match="longer than"):
        read_pasted("word " * (MB // 4), MB)


def test_chunks_are_measured_in_embedding_tokens_and_overlap():
    tok = Tokenizer(default_model_path())
    chunker = Chunker(tok.count, chunk_tokens=50, overlap=10)
    text = " ".join(f"Sentence number {i} talks about rivers, mountains and the sea." for i in range(60))
    chunks = chunker.split(text)
    assert len(chunks) > 5
    assert all(tok.count(c) <= 50 for c in chunks)
    assert chunks[0].split()[-1] in chunks[1], "neighbouring chunks share an overlap"


def test_counting_many_texts_at_once_gives_each_text_its_own_count():
    tok = Tokenizer(default_model_path())
    texts = [PROSE, "", "Personalization, naïvely: 42 tokens?", " ".join(["rivers"] * 300)]
    assert tok.count_many(texts) == [tok.count(t) for t in texts]
    assert tok.count_many([]) == []


def test_embedding_batches_longest_first_and_returns_vectors_in_the_order_given():
    import numpy as np

    from playground.models.embeddings import SentenceTransformerEmbedder

    batches: list[list[str]] = []

    class Model:  # stands in for SentenceTransformer: one row per text, its length
        def encode(self, texts, **_):  # type: ignore[no-untyped-def]
            batches.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    emb = SentenceTransformerEmbedder(default_model_path())
    emb.__dict__["model"] = Model()
    texts = ["a" * n for n in (3, 9, 1, 7, 5)]
    seen: list[tuple[int, int]] = []
    vectors = emb.embed(texts, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert [int(v[0]) for v in vectors] == [3, 9, 1, 7, 5]
    assert [[len(t) for t in b] for b in batches] == [[9, 7], [5, 3], [1]]
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_tokenizer_truncates_at_a_token_boundary():
    tok = Tokenizer(default_model_path())
    text = "Personalization makes answers fit the person who asks."
    cut = tok.truncate(text, 3)
    assert tok.count(cut) == 3 and text.startswith(cut)


def test_one_byte_over_the_limit_says_how_far_over_in_the_units_the_readme_uses():
    from playground import Settings
    from tests.conftest import ROOT

    limit = Settings.from_env({}).max_upload_bytes
    with pytest.raises(IngestError) as e:
        read_bytes(b"a " * (limit // 2) + b"a", "essay.txt", limit)
    message = str(e.value)
    assert "1 byte too many" in message and f"{limit:,} bytes (10.0 MiB)" in message, message
    assert "10.5 MB" not in message
    readme = (ROOT / "README.md").read_text()
    assert "| `PLAYGROUND_MAX_UPLOAD_MB` | `10.0` | Largest writing sample accepted, in MiB (1 MiB = 1,048,576" in readme
    with pytest.raises(IngestError, match=r"is 2\.0 MiB; the limit is 1\.0 MiB"):
        read_bytes(b"a " * MB, "big.txt", MB)


@pytest.mark.parametrize("text", [
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
    "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。" * 60,
    "我们今天在北京大学的图书馆里读了很多关于历史和文学的书，然后一起去吃了午饭，下午又回到教室继续讨论。" * 60,
])
def test_japanese_and_chinese_prose_without_spaces_is_accepted(text):
    assert len(text) > 2000 and " " not in text
    assert read_pasted(text, MB).text == text
    assert read_bytes(text.encode(), "随筆.txt", MB).text == text


def test_cjk_is_tokenised_into_bigrams_for_bm25_and_latin_words_are_kept():
    from playground.pipeline.retrieval import bm25_tokens

    assert bm25_tokens("北京大学") == ["北京", "京大", "大学"]
    assert bm25_tokens("東京は日本の首都")[:2] == ["東京", "京は"]
    assert bm25_tokens("The 猫 sat") == ["猫", "sat"]
    assert bm25_tokens("Hamilton's essays") == ["hamilton's", "essays"]
