"""Every third-party module that the app, its pages and the engine import is installed by `requirements.txt` (directly
or as a dependency of a package listed there), so `pip install -r requirements.txt` gives a working app. A module that
only the tests need belongs in requirements-dev.txt."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from tests.conftest import ROOT

LOCAL = {"playground", "components", "pages", "tests", "bench"}


def imported_modules(paths: list[Path]) -> dict[str, str]:
    """Top-level module -> first file importing it (every import, including lazy ones inside functions)."""
    found: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(req_file: Path) -> set[str]:
    todo = [re.split(r"[=<>\[ ;]", line.strip())[0] for line in req_file.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-"))]
    seen: set[str] = set()
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [re.split(r"[=<>!~\[ ;(]", r)[0] for r in requires if "extra ==" not in r]
    return seen


def test_every_module_the_app_and_engine_import_is_installed_by_requirements_txt():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "components").glob("*.py")),
             *sorted((ROOT / "playground").rglob("*.py"))]
    providers = metadata.packages_distributions()
    closure = requirement_closure(ROOT / "requirements.txt")
    missing = {}
    for module, where in imported_modules(files).items():
        dists = {_norm(d) for d in providers.get(module, [])}
        if not dists & closure:
            missing[module] = (where, sorted(dists) or "not installed at all")
    assert not missing, f"imported but not provided by requirements.txt: {missing}"
