"""The design in docs/architecture.md, kept true by reading the imports (statically, so lazy imports inside
functions count too): the groups depend only downwards, no module imports itself back through others, no engine
module reaches for the front door, the engine never touches streamlit, and pages never touch the stores."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator

from playground.demo import Demo
from playground.front_door import Playground
from playground.library.samples import WritingLibrary
from playground.models.selection import ModelChoice
from playground.people.directory import People
from playground.pipeline.conversations import Conversations
from playground.pipeline.scoping import Scoping
from playground.pipeline.summaries import Summaries
from playground.research.attribution import Attribution
from playground.research.evaluation import Evaluation
from playground.research.fact_recall import FactRecall
from playground.research.preferences import Preferences
from playground.research.probes.judge import Judge
from playground.research.study import Studies
from playground.research.stylecard import StyleCards
from playground.workshop import Workshop

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "playground"
BASE = {"errors", "settings", "wording"}
GROUPS = ("stores", "people", "models", "library", "pipeline", "research")
# What each group (or top-level module) may import from the package; every group may import itself and BASE.
ALLOWED = {
    "stores": set(),
    "people": {"stores"},
    "models": {"stores", "workshop"},
    "library": {"stores", "people", "models", "workshop"},
    "pipeline": {"stores", "people", "models", "library"},
    "research": {"stores", "people", "models", "library", "pipeline"},
    "workshop": set(),
    "demo": {"people", "library"},
    "errors": set(), "settings": set(), "wording": set(),
}
ENTRY_POINTS = {"playground", "playground.cli", "playground.__main__"}  # may use the front door


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path, *, runtime_only: bool = True) -> set[str]:
    """Every module the file imports (at any depth), skipping ``if TYPE_CHECKING:`` blocks when ``runtime_only``."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if runtime_only and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for n in node.orelse:
                    self.visit(n)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for a in node.names:
                candidate = f"{base}.{a.name}"
                found.add(candidate if candidate in MODULES else base)

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def room(module: str) -> str:
    """The group a module belongs to ("library"), or its own name for a top-level module ("workshop")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "playground"


def test_each_group_depends_only_on_the_groups_below_it():
    wrong = []
    for name, path in MODULES.items():
        here = room(name)
        if name in ENTRY_POINTS or here == "front_door":
            continue
        for dep in imports(path):
            if dep.startswith("playground.") and room(dep) not in {here} | BASE | ALLOWED[here]:
                wrong.append(f"{name} imports {dep}")
    assert not wrong, "\n".join(wrong)


def test_no_import_loops_even_through_lazy_imports():
    graph = {m: {d for d in imports(p) if d in MODULES} for m, p in MODULES.items()}
    loops, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                loops.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    # The package root re-exports the front door, which imports everything: that is the one allowed way in.
    loops = [loop for loop in loops if not loop.startswith("playground ->")]
    assert not loops, "\n".join(loops)


def test_no_engine_module_imports_the_front_door_or_the_package_root():
    wrong = [f"{name} imports {dep}" for name, path in MODULES.items() if name not in ENTRY_POINTS
             for dep in imports(path, runtime_only=False)
             if dep in ("playground", "playground.front_door")]
    assert not wrong, "\n".join(wrong)


def test_the_engine_never_imports_streamlit_not_even_lazily():
    wrong = [name for name, path in MODULES.items()
             if any(d == "streamlit" or d.startswith("streamlit.") for d in imports(path, runtime_only=False))]
    assert not wrong


def test_pages_and_components_never_reach_into_the_stores():
    files = [ROOT / "app.py", *ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("components").glob("*.py")]
    wrong = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        wrong += [f"{f.name} imports {d}" for d in imports(f) if d.startswith("playground.stores")]
        wrong += [f"{f.name}: {m.group(0)}" for m in re.finditer(r"\bpg\.vectors\.\w+", text)]
        # nor hand the raw database to engine functions: they ask a part (pg.people.hidden_profiles())
        wrong += [f"{f.name}: {m.group(0)}" for m in re.finditer(r"\bpg\.db\b", text)]
    assert not wrong, "\n".join(wrong)


def test_every_module_says_why_it_exists():
    missing = [name for name, path in MODULES.items()
               if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()]
    assert not missing


def test_callers_use_the_parts_the_front_door_forwards_nothing():
    """``pg.library.add_sample``, not ``pg.add_sample``: the Playground has no method under a name its parts
    already answer to, so each call names the part that holds the behaviour (and a type checker can follow it)."""
    parts = {"people": People, "library": WritingLibrary, "scoping": Scoping, "conversations": Conversations,
             "models": ModelChoice, "studies": Studies, "summaries": Summaries, "style": StyleCards,
             "judge": Judge, "preferences": Preferences,
             "attribution": Attribution, "evaluation": Evaluation,
             "demo": Demo, "fact_recall": FactRecall,
             "workshop": Workshop}
    part_methods = {name for cls in parts.values() for name in vars(cls) if not name.startswith("_")}
    own = {name for name in vars(Playground) if not name.startswith("_")}
    assert own & part_methods == set(), "call these through their part"
    for name, cls in parts.items():
        assert name in Playground.__init__.__code__.co_names, f"pg.{name} is built by the Playground"



BACKEND_CLASSES = {"OllamaBackend", "OpenAICompatibleBackend", "EmbeddedBackend", "AutoBackend", "make_backend",
                   "load_server", "stream_server", "GenerationQueue"}


def model_door_bypasses(path: Path) -> list[str]:
    """Places in ``path`` that reach a model backend or a queue without the door (``ModelChoice``): an attribute
    ``.backend`` read on the Playground (``pg``/``_pg``/``playground``) or on its model part (``<x>.models``); any
    ``.generation_queue``; a backend class (or the engine's own functions) imported. The front door's ``backend``
    property (kept for tests that swap the backend) and the package root's re-exports are the exceptions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    if path.name == "front_door.py":
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name == "backend":
                allowed |= {id(n) for n in ast.walk(fn)}
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Attribute) and node.attr == "backend":
            owner = node.value
            if ((isinstance(owner, ast.Name) and owner.id in ("pg", "_pg", "playground"))
                    or (isinstance(owner, ast.Attribute) and owner.attr == "models")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} reads {ast.unparse(node)}")
        if isinstance(node, ast.Attribute) and node.attr == "generation_queue":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and path != PACKAGE / "__init__.py":
            for alias in node.names:
                if alias.name in BACKEND_CLASSES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
    return found


def test_nothing_outside_playground_models_calls_a_model_backend_without_the_door():
    files = [p for p in [*PACKAGE.rglob("*.py"), *ROOT.joinpath("pages").glob("*.py"),
                         *ROOT.joinpath("components").glob("*.py"), ROOT / "app.py"]
             if PACKAGE / "models" not in p.parents]
    wrong = [w for f in files for w in model_door_bypasses(f)]
    assert not wrong, "every model call goes through ModelChoice.stream/complete/list_models:\n" + "\n".join(wrong)


# -- each table has one module that writes it -----------------------------------------------------------------------
# Reads may join across tables; every INSERT, UPDATE and DELETE of a table lives in its owner, so a change to what a
# row means has one place to look. stores.personal_data is the one map of personal data: erasure deletes and scrubs
# in every place it declares, whoever owns the table. SHARED lists the other writers, each with its reason.
OWNED = {
    "playground.stores.migrations": ("_migrations",), "playground.stores.vectors": ("scope_revs",),
    "playground.stores.personal_data": ("deletions",), "playground.library.server_move": ("chroma_namespace",),
    "playground.people.directory": ("profiles", "personas"), "playground.library.samples": ("samples", "chunks"),
    "playground.pipeline.conversations": ("sessions", "messages", "traces"),
    "playground.pipeline.profile_cache": ("profile_summaries", "profile_style_cards"),
    "playground.research.study": ("studies", "participants", "study_events", "study_invites", "judgements",
                                  "persona_locks"),
    "playground.research.preferences": ("preferences",), "playground.research.probes.judge": ("judge_verdicts",),
    "playground.research.probes.counterfactual": ("explanations", "explanation_variants"),
    "playground.research.admin_guard": ("admin_attempts",), "playground.workshop": ("app_settings",),
}
OWNERS = {table: module for module, tables in OWNED.items() for table in tables}
ERASURE = "playground.stores.personal_data"
SHARED = {
    ("profiles", "playground.people.privacy"): "who sees a profile (owner_token) is decided in one module",
    ("samples", "playground.people.directory"): "a persona's example rows go in the same transaction as the persona",
}
# A table named by a variable: only where the variable ranges over tables this module owns (or erasure's places).
DYNAMIC = {ERASURE, "playground.pipeline.profile_cache"}
WRITE = re.compile(r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+(\{?\w+)", re.I)


def string_constants(path: Path) -> Iterator[str]:
    """Every string constant in ``path``; an f-string with each ``{…}`` replaced by "{x"."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            yield "".join(v.value if isinstance(v, ast.Constant) else "{x" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def sql_writes(path: Path) -> set[str]:
    """Tables written by string constants in ``path`` (f-strings included: a ``{name}`` target is reported as "{")."""
    return {"{" if t.startswith("{") else t for text in string_constants(path) for t in WRITE.findall(text)
            if t.isidentifier() or t[0] == "{"}


def test_every_table_is_written_by_its_owner_only():
    created = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)",
                             (PACKAGE / "stores" / "migrations.py").read_text(encoding="utf-8")))
    assert created - OWNERS.keys() == set(), "a new table needs an owner here"
    strays = []
    for name, path in MODULES.items():
        if name == "playground.stores.migrations":
            continue  # the schema itself
        for table in sql_writes(path):
            if table == "{":
                if name not in DYNAMIC:
                    strays.append(f"{name} writes a table named by a variable")
            elif table in OWNERS and name not in (OWNERS[table], ERASURE) and (table, name) not in SHARED:
                strays.append(f"{name} writes {table} (owner: {OWNERS[table]})")
    assert strays == []


def test_the_write_finder_finds_writes():
    sample = PACKAGE / "workshop.py"
    assert "app_settings" in sql_writes(sample)
    assert "{" in sql_writes(PACKAGE / "pipeline" / "profile_cache.py")


# -- and each table's reads live in its owner, or in a reader declared here with its reason --------------------------
# A reader outside the owner is a place that must change when a row's meaning does, so each is named and explained;
# a part that needs another's rows asks the owner (``writing_counts``, ``judgements_with_participants``, ...).
READERS = {
    ("participants", "playground.people.consent"):
        "an owner token 'study:ID' names a participant; people sit below research, so the token is decoded here",
    ("profiles", "playground.people.privacy"): "who sees a profile (owner_token) is decided in one module",
    ("samples", "playground.people.directory"):
        "a profile list counts its writing and a persona's examples are read with it; people sit below the library",
    ("chunks", "playground.people.directory"): "a profile list counts its chunks; people sit below the library",
    ("persona_locks", "playground.people.directory"):
        "an open study freezes its persona; people sit below research, so the refusal reads the lock here",
    ("studies", "playground.people.directory"): "the refusal names the study that holds the lock",
    ("profiles", "playground.library.samples"):
        "an upload checks its owner at each step (still there, not being erased, which persona it shares with), so "
        "a deletion or an opt-out during the upload is seen",
    ("deletions", "playground.library.samples"): "see profiles",
    ("personas", "playground.library.samples"): "see profiles",
    ("samples", "playground.pipeline.retrieval"):
        "what a scope may see is one query over chunks, their samples and the members' sharing consent, so a "
        "consent change cannot fall between two reads",
    ("chunks", "playground.pipeline.retrieval"): "see samples",
    ("profiles", "playground.pipeline.retrieval"): "see samples",
    ("chroma_namespace", "playground.stores.vectors"):
        "the vector store learns its namespace on a shared server at start; the library, which moves it, owns it",
    **{(t, "playground.library.repair"): "the consistency check compares every table of writing with Chroma"
       for t in ("profiles", "personas", "samples", "chunks", "deletions")},
}
SELECT = re.compile(r"\bSELECT\b", re.I)
READ = re.compile(r"\b(?:FROM|JOIN)\s+(\{?\w+)", re.I)
WRITE_TARGET = re.compile(r"\bDELETE\s+FROM\s+\w+", re.I)


def sql_reads(path: Path) -> set[str]:
    """Tables read by string constants in ``path`` that select (f-strings included: ``{name}`` is reported as "{")."""
    return {"{" if t.startswith("{") else t for text in string_constants(path) if SELECT.search(text)
            for t in READ.findall(WRITE_TARGET.sub("", text))}


def test_every_table_is_read_by_its_owner_or_a_declared_reader():
    strays, used = [], set()
    for name, path in MODULES.items():
        if name in ("playground.stores.migrations", ERASURE):
            continue  # the schema, and the one map of personal data
        for table in sql_reads(path):
            if table == "{":
                if name not in DYNAMIC:
                    strays.append(f"{name} reads a table named by a variable")
            elif table in OWNERS and name != OWNERS[table]:
                if (table, name) in READERS:
                    used.add((table, name))
                else:
                    strays.append(f"{name} reads {table} (owner: {OWNERS[table]}): ask the owner, or declare why")
    assert strays == []
    assert set(READERS) - used == set(), "these readers no longer read the table: drop them from READERS"


def test_the_read_finder_finds_reads_and_skips_writes(tmp_path):
    assert {"chunks", "samples"} <= sql_reads(PACKAGE / "library" / "samples.py")
    assert "{" in sql_reads(PACKAGE / "pipeline" / "profile_cache.py")
    probe = tmp_path / "probe.py"
    probe.write_text('q = "DELETE FROM samples WHERE id IN (SELECT sample_id FROM chunks c JOIN traces t ON 1)"\n'
                     'w = "INSERT INTO preferences (id) VALUES (?)"\n', encoding="utf-8")
    assert sql_reads(probe) == {"chunks", "traces"}
