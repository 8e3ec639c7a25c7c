"""CSV that a spreadsheet opens as data: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
run by Excel, LibreOffice and Google Sheets as a formula (CSV injection). Every CSV the playground writes goes through
:func:`write_csv`, which prefixes such text cells with an apostrophe (shown by spreadsheets as text, kept in the file
so a reader sees the cell was neutralised). Numbers stay numbers: ``-0.5`` as a float is written as it is.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Mapping, Sequence

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """The value as a spreadsheet should receive it: text that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text with a header row; every cell through :func:`csv_safe` (the header too)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([csv_safe(c) for c in columns])
    for row in rows:
        writer.writerow([csv_safe(row.get(c)) if row.get(c) is not None else "" for c in columns])
    return buf.getvalue()
