"""The pages are declared once (components/page_registry.py): every page file is in it, each page sets itself up
under the title it has there, and nothing else lists page titles or icons."""

from __future__ import annotations

import ast
import re

from components.page_registry import HIDEABLE, PAGES
from tests.conftest import ROOT


def setup_call(path) -> ast.Call:
    calls = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "page_setup"]
    assert len(calls) == 1, f"{path.name} calls page_setup {len(calls)} times"
    return calls[0]


def test_every_page_file_is_declared_once_and_sets_itself_up_under_its_title():
    files = {"app.py", *(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))}
    assert sorted(p.path for p in PAGES) == sorted(files)
    for page in PAGES:
        if page.path == "app.py":
            continue  # Home's heading is the app's name
        call = setup_call(ROOT / page.path)
        assert isinstance(call.args[0], ast.Constant) and call.args[0].value == page.title, page.path
        assert not call.keywords, f"{page.path}: its icon and title come from the registry"


def test_home_and_study_admin_cannot_be_hidden_and_no_other_list_of_pages_exists():
    assert "Home" not in HIDEABLE and "Study admin" not in HIDEABLE and "Chat" in HIDEABLE
    titles = [p.title for p in PAGES if p.title != "Home"]
    for path in [*(ROOT / "playground").rglob("*.py"), *(ROOT / "components").glob("*.py"), ROOT / "app.py"]:
        if path.name == "page_registry.py":
            continue
        text = path.read_text(encoding="utf-8")
        listed = [t for t in titles if re.search(rf'"{re.escape(t)}"', text)]
        assert len(listed) < 4, f"{path.relative_to(ROOT)} lists page titles {listed}: use components.page_registry"
