"""Write the README's settings table from the declarations in playground/settings.py.

Run after adding or changing a setting: `python scripts/readme_settings.py`. A unit test fails while the README's
table differs from what this script would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- settings table: generated from playground/settings.py by `python scripts/readme_settings.py` -->"
END = "<!-- end of settings table -->"


def with_table(readme: str, table: str) -> str:
    """The README text with the block between the two markers replaced by ``table``."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from playground.settings import markdown_table

    path = ROOT / "README.md"
    text = path.read_text()
    new = with_table(text, markdown_table())
    if new != text:
        path.write_text(new)
        print("README.md: settings table rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
