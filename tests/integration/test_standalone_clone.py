"""The repository stands on its own: a copy of exactly the files git tracks, with no `../shared` beside it, loads the
demo data through the CLI and retrieves from it. And no code or script in the repository reaches outside it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from tests.conftest import ROOT


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def test_a_lone_copy_of_the_repository_loads_the_demo_and_retrieves_from_it(tmp_path):
    clone = tmp_path / "alone" / "main"
    for rel in tracked_files():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, clone / rel)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAYGROUND_")}
    env.update(PYTHONPATH=str(clone), PLAYGROUND_DATA_DIR=str(tmp_path / "data"), PLAYGROUND_LLM_BACKEND="ollama",
               PLAYGROUND_OLLAMA_HOST="http://127.0.0.1:9")

    def cli(*args: str) -> list:
        p = subprocess.run([sys.executable, "-m", "playground", *args], cwd=clone, env=env, capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    profiles = cli("demo")
    assert [p["display_name"] for p in profiles] == ["Alexander Hamilton", "James Madison", "John Jay"]
    assert all(len(p["samples"]) == 3 for p in profiles)
    assert cli("demo") == profiles, "loading the demo twice adds nothing"
    hits = cli("retrieve", profiles[0]["id"], "commerce and a navy", "--k", "3")
    assert hits and all(h["owner"] == profiles[0]["id"] for h in hits)
    assert all(h["sample_title"].startswith("Federalist No.") for h in hits)


def test_no_code_or_script_in_the_repository_reads_the_development_folder_beside_it():
    pattern = re.compile(r"\.\./shared|parent\s*/\s*[\"']shared[\"']")
    this_file = "tests/integration/test_standalone_clone.py"
    offenders = [rel for rel in tracked_files() if (rel.endswith((".py", ".sh", ".toml", ".ini", ".cfg"))
                 or rel.startswith(".ci/")) and rel != this_file
                 and pattern.search((ROOT / rel).read_text(errors="replace"))]
    assert not offenders, offenders
