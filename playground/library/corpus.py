"""Reading a JSONL corpus (one document per line) for evaluation, attribution and demo data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from playground.errors import InvalidInput


@dataclass
class CorpusDoc:
    author: str
    doc_id: str
    title: str
    text: str


def read_corpus(path: Path, author_field: str, text_field: str, title_field: str | None = None,
                drop_where: Sequence[str] = (), id_field: str | None = None) -> list[CorpusDoc]:
    """Documents from a JSONL file. ``drop_where`` items are ``FIELD=VALUE``: matching rows are left out."""
    if not path.exists():
        raise InvalidInput(f"There is no corpus file at {path}.")
    drops = []
    for d in drop_where:
        if "=" not in d:
            raise InvalidInput(f"--drop-where takes FIELD=VALUE, not {d!r}.")
        k, v = d.split("=", 1)
        drops.append((k, v))
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"Line {n} of {path.name} is not valid JSON.") from e
        if any(str(row.get(k)).lower() == v.lower() for k, v in drops):
            continue
        if author_field not in row or text_field not in row:
            raise InvalidInput(f"Line {n} of {path.name} has no field '{author_field}' or '{text_field}'.",
                               f"Fields there: {', '.join(row)}.")
        docs.append(CorpusDoc(str(row[author_field]), str(row.get(id_field or "", "") or f"doc{n}"),
                              str(row.get(title_field or "", "") or ""), str(row[text_field])))
    if not docs:
        raise InvalidInput(f"No documents left in {path.name}.")
    return docs


def by_author(docs: Sequence[CorpusDoc], per_author: int = 0, authors: int = 0) -> dict[str, list[CorpusDoc]]:
    """The documents grouped by author, in corpus order: at most ``per_author`` each (0: all), and only the
    ``authors`` authors with the most documents (0: all), most documents first."""
    grouped: dict[str, list[CorpusDoc]] = {}
    for d in docs:
        grouped.setdefault(d.author, []).append(d)
    if per_author:
        grouped = {a: ds[:per_author] for a, ds in grouped.items()}
    names = sorted(grouped, key=lambda a: -len(grouped[a]))
    return {a: grouped[a] for a in (names[:authors] if authors else names)}
