"""Faults a workshop meets: the process killed mid-ingestion, a full disk, an unreachable Chroma server, two
processes writing at once. After each, the stores agree and nothing saved before is lost."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from playground import Playground, Settings, StorageError, VectorStoreUnavailable
from playground.stores.vectors import user_collection
from tests.conftest import ROOT, closed_port

INGEST = textwrap.dedent("""
    import sys
    from playground import Playground, Settings
    pg = Playground(Settings.from_env())
    user = pg.people.list_profiles()[0]["id"]
    words = "river flood sheep pasture bread oven garden stars union faction".split()
    text = "\\n\\n".join(" ".join(words[(i + j) % 10] for j in range(12)) + "." for i in range(int(sys.argv[1])))
    text += " " + (sys.argv[2] if len(sys.argv) > 2 else "")
    print("start", flush=True)
    pg.library.add_sample(user, text=text, title="big")
    print("done", flush=True)
""")


def test_sigkill_during_ingestion_leaves_consistent_stores_after_restart(tmp_path, embedder):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "d"), "PLAYGROUND_CHUNK_TOKENS": "16",
           "PLAYGROUND_CHUNK_OVERLAP": "0"}
    settings = Settings.from_env(env)
    pg = Playground(settings, embedder=embedder)
    user = pg.people.create_profile("Ada")
    kept = pg.library.add_sample(user["id"], text="The harbour was quiet at dawn, and the boats came in late.")
    killed_while = []
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", INGEST, "2500"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "start"
        deadline = time.time() + 240
        state = None
        while time.time() < deadline and proc.poll() is None:
            with sqlite3.connect(settings.db_path, timeout=30) as db:
                row = db.execute("SELECT status FROM samples WHERE title = 'big'").fetchone()
            if row and row[0] == "pending":  # the record is written and the vectors are being added
                time.sleep(0.1 * attempt)
                state = row[0]
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_while.append(state)
        restarted = Playground(settings, embedder=embedder)
        assert restarted.library.check_consistency() == [], f"attempt {attempt}"
        titles = [s["title"] for s in restarted.library.list_samples(user["id"])]
        assert titles[0] == kept["title"], "what was saved before is intact"
        if "big" in titles:
            big = next(s["id"] for s in restarted.library.list_samples(user["id"]) if s["title"] == "big")
            restarted.library.delete_sample(big)
    assert "pending" in killed_while, "at least one kill landed between the record and the vectors"


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_gives_a_clear_error_and_corrupts_nothing(small_disk, embedder):
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": str(small_disk / "data")})
    pg = Playground(settings, embedder=embedder)
    user = pg.people.create_profile("Ada")
    first = pg.library.add_sample(user["id"], text="Notes from the river: it rose all night and the sheep moved uphill.")
    filler = small_disk / "filler"
    with open(filler, "wb") as f:  # someone else fills the disk
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    errors = []
    for i in range(5):
        try:
            pg.library.add_sample(user["id"], text=f"Another long page of writing number {i}. " * 400)
        except StorageError as e:
            errors.append(str(e))
    assert errors and all("full" in e for e in errors), errors
    filler.unlink()
    restarted = Playground(settings, embedder=embedder)
    assert restarted.library.check_consistency() == []
    assert first["id"] in [s["id"] for s in restarted.library.list_samples(user["id"])]
    hits = restarted.conversations.retrieve(user["id"], "river sheep", "user")
    assert hits and hits[0].sample_id == first["id"]


def test_an_unreachable_chroma_server_is_reported_in_words(tmp_path, embedder):
    settings = Settings.from_env({"PLAYGROUND_DATA_DIR": str(tmp_path / "d"), "PLAYGROUND_CHROMA_HOST": "127.0.0.1",
                                  "PLAYGROUND_CHROMA_PORT": str(closed_port())})
    with pytest.raises(VectorStoreUnavailable, match="cannot be reached.*chroma run"):
        Playground(settings, embedder=embedder)


def test_two_processes_adding_samples_at_once_both_land(tmp_path, embedder):
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "d")}
    pg = Playground(Settings.from_env(env), embedder=embedder)
    user = pg.people.create_profile("Ada")
    procs = [subprocess.Popen([sys.executable, "-c", INGEST, "40", f"writer {n}"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True) for n in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs) and all("done" in o for o in outs)
    restarted = Playground(Settings.from_env(env), embedder=embedder)
    assert restarted.library.check_consistency() == []
    assert len(restarted.library.list_samples(user["id"])) == 2
    assert restarted.vectors.count(user_collection(user["id"])) == sum(
        s["n_chunks"] for s in restarted.library.list_samples(user["id"]))
