"""Erasure and writes when people act at once: a deletion while someone else's upload is stored, in
threads and in two processes; a person deleted while their own upload shows "storing"; a deletion killed with
SIGKILL and finished at restart; "Delete sample" and "Delete persona" down to the bytes; an evaluation stopped by a
signal; the running app seeing what the CLI added; and storage failures said in words for people."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from playground import NotFound, Playground, RetrievalOptions, Settings
from playground.stores.vectors import VectorStore, user_collection
from tests.conftest import FEDERALIST, ROOT, closed_port
from tests.integration.test_erasure import grep_data_folder

INTEGRITY = textwrap.dedent("""
    import sqlite3, sys
    for path in sys.argv[1:]:
        conn = sqlite3.connect(path, timeout=30)
        print(path, conn.execute("PRAGMA integrity_check").fetchone()[0])
        conn.close()
""")


def integrity(*paths: Path) -> dict[str, str]:
    """``PRAGMA integrity_check`` of each file, run in another process (opening Chroma's file with a second SQLite
    in this process is the very hazard under test)."""
    out = subprocess.run([sys.executable, "-c", INTEGRITY, *map(str, paths)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return dict(line.rsplit(" ", 1) for line in out.stdout.splitlines())


def all_sqlite_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*.sqlite3")]


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir), "PLAYGROUND_LLM_BACKEND": "openai",
            "PLAYGROUND_OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "PLAYGROUND_MODEL": "",
            "PLAYGROUND_CHUNK_TOKENS": "16", "PLAYGROUND_CHUNK_OVERLAP": "0", **extra}


@pytest.fixture
def small_chunks(tmp_path, embedder):
    settings = Settings.from_env(env_for(tmp_path / "data"))
    return Playground(settings, embedder=embedder)


def text_of(words: int, seed: str) -> str:
    vocab = "river flood sheep pasture bread oven garden stars union harbour lantern meadow".split()
    return " ".join(vocab[(i * 7 + len(seed)) % len(vocab)] for i in range(words)) + f". {seed}"


def wait_for(condition, timeout: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def assert_stores_sound(pg: Playground, *markers: str) -> None:
    checks = integrity(*all_sqlite_files(pg.settings.data_dir))
    assert checks and all(v == "ok" for v in checks.values()), checks
    assert pg.library.check_consistency() == []
    assert grep_data_folder(pg.settings.data_dir, *markers) == []


# -- a deletion while someone else's upload is stored ---------------------------------------------------------------
def test_deleting_someone_while_another_upload_is_stored_leaves_every_store_intact(small_chunks):
    pg = small_chunks
    bob = pg.people.create_profile("Bob")["id"]
    markers: list[str] = []
    errors: list[BaseException] = []
    go = threading.Event()

    def upload() -> None:
        go.wait()
        try:
            for n in range(5):
                pg.library.add_sample(bob, text=text_of(400, f"bob sample {n}"), title=f"bob {n}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def delete() -> None:
        go.wait()
        try:
            for n in range(4):
                marker = "zq" + uuid.uuid4().hex[:12]
                markers.append(marker)
                who = pg.people.create_profile(f"Gone {n}")["id"]
                pg.library.add_sample(who, text=text_of(120, marker))
                pg.people.delete_profile(who)  # purges: VACUUM of chroma.sqlite3 while Bob's vectors are being written
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=upload), threading.Thread(target=delete)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    assert len(pg.library.list_samples(bob)) == 5
    assert_stores_sound(pg, *markers)
    # and a fresh process can open the data folder and find Bob's writing
    again = Playground(pg.settings, embedder=pg.embedder)
    assert again.conversations.retrieve(bob, "bob sample 4", "user", RetrievalOptions("dense", k=3))


CLI_UPLOADS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from playground.cli import main
    for path in sys.argv[2:]:
        assert main(["samples", "add", sys.argv[1], path]) == 0
    print("uploaded", flush=True)
""")


def test_a_cli_upload_while_the_app_deletes_leaves_every_store_intact(small_chunks, tmp_path):
    pg = small_chunks
    bob = pg.people.create_profile("Bob")["id"]
    files = []
    for n in range(4):
        f = tmp_path / f"bob{n}.txt"
        f.write_text(text_of(400, f"bob file {n}"))
        files.append(str(f))
    proc = subprocess.Popen([sys.executable, "-c", CLI_UPLOADS, bob, *files], cwd=ROOT,
                            env=env_for(pg.settings.data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    markers = []
    try:
        while proc.poll() is None and len(markers) < 8:  # delete (and purge) for as long as the CLI uploads
            marker = "zq" + uuid.uuid4().hex[:12]
            markers.append(marker)
            who = pg.people.create_profile("Gone")["id"]
            pg.library.add_sample(who, text=text_of(120, marker))
            pg.people.delete_profile(who)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert len(markers) >= 1
    assert len(pg.library.list_samples(bob)) == 4
    assert_stores_sound(pg, *markers)
    hits = pg.conversations.retrieve(bob, "bob file 3", "user", RetrievalOptions("dense", k=10))
    assert any("bob file 3" in h.text for h in hits), "this process sees the CLI's writing"


# -- another process starting while work is under way --------------------------------------------------------------
START = textwrap.dedent("""
    import json
    from playground import Playground, Settings
    pg = Playground(Settings.from_env())
    print(json.dumps({"repair": pg.repair_report, "problems": pg.library.check_consistency()}), flush=True)
""")


def start_another_process(data_dir: Path) -> dict:
    """What a second app or a CLI command does first: open the data folder (start-up repair) and check it."""
    out = subprocess.run([sys.executable, "-c", START], cwd=ROOT, env=env_for(data_dir), capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def paused_after(obj: object, method: str):
    """Make ``obj.method`` stop after its first call until released: (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    original = getattr(obj, method)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            assert release.wait(600)
        return result

    setattr(obj, method, wrapper)
    return reached, release


def test_another_process_starting_mid_upload_leaves_the_upload_alone(small_chunks):
    """A participant's upload has written its vectors and is about to be marked ready when the instructor runs a
    CLI command (or a second app starts): that start-up must not take it for a crashed upload and undo it."""
    pg = small_chunks
    alice = pg.people.create_profile("Alice")["id"]
    marker = "zq" + uuid.uuid4().hex[:12]
    reached, release = paused_after(pg.vectors, "add")
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(pg.library.add_sample(alice, text=text_of(300, marker), title="harbour notes"))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=upload)
    t.start()
    try:
        assert reached.wait(300), "the upload reached its vectors"
        other = start_another_process(pg.settings.data_dir)
    finally:
        release.set()
        t.join(300)
    assert other["repair"]["unfinished_samples"] == 0 and other["repair"]["orphan_vectors"] == 0, other
    assert other["problems"] == [], "an upload under way is not a disagreement"
    assert len(outcome) == 1 and isinstance(outcome[0], dict) and outcome[0]["status"] == "ready", outcome
    assert [s["title"] for s in pg.library.list_samples(alice)] == ["harbour notes"]
    assert pg.library.check_consistency() == []
    hits = pg.conversations.retrieve(alice, marker, "user", RetrievalOptions("dense", k=20))
    assert any(marker in h.text for h in hits), "her writing can be found"


def test_another_process_starting_mid_deletion_does_not_run_it_again(small_chunks):
    """Someone's deletion has removed their rows and is clearing the bytes when another process starts: it leaves
    the deletion to the process doing it, and the deletion still ends with nothing of theirs on disk."""
    pg = small_chunks
    marker = "zq" + uuid.uuid4().hex[:12]
    alice = pg.people.create_profile("Alice")["id"]
    bob = pg.people.create_profile("Bob")["id"]
    pg.library.add_sample(alice, text=text_of(300, marker))
    pg.library.add_sample(bob, text=text_of(100, "bob keeps this"))
    reached, release = paused_after(pg.db, "checkpoint")  # the first step of the byte-level purge
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            pg.people.delete_profile(alice)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=delete)
    t.start()
    try:
        assert reached.wait(300), "the deletion reached its purge"
        other = start_another_process(pg.settings.data_dir)
    finally:
        release.set()
        t.join(300)
    assert errors == []
    assert other["repair"]["interrupted_deletions"] == 0 and other["repair"]["left_running"] == 1, other
    assert other["problems"] == [], other
    assert pg.db.query("SELECT * FROM deletions") == []
    assert [s["owner_id"] for s in pg.db.query("SELECT owner_id FROM samples")] == [bob]
    assert_stores_sound(pg, marker)


def test_work_that_ended_unfinished_is_repaired_by_the_next_start(small_chunks):
    """The other side of the rule: an upload whose process is gone (here: its lock released, its row still
    'pending', as a crash leaves it) is undone at the next start, as before."""
    pg = small_chunks
    alice = pg.people.create_profile("Alice")["id"]
    marker = "zq" + uuid.uuid4().hex[:12]
    sample = pg.library.add_sample(alice, text=text_of(200, marker))
    pg.db.execute("UPDATE samples SET status = 'pending', writer = 'a-process-that-was-killed' WHERE id = ?",
                  (sample["id"],))
    other = start_another_process(pg.settings.data_dir)
    assert other["repair"]["unfinished_samples"] == 1 and other["problems"] == [], other
    assert pg.library.list_samples(alice) == []


# -- a person deleted while their own upload shows "storing" --------------------------------------------------------
def test_a_person_deleted_while_their_upload_is_storing_does_not_come_back(small_chunks):
    pg = small_chunks
    alice = pg.people.create_profile("Alice")["id"]
    marker = "zq" + uuid.uuid4().hex[:12]
    storing, deleted = threading.Event(), threading.Event()
    outcome: list[object] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "storing" and not storing.is_set():
            storing.set()  # what the page shows as "storing"
            assert deleted.wait(120)

    def upload() -> None:
        try:
            outcome.append(pg.library.add_sample(alice, text=text_of(900, marker), progress=progress))
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=upload)
    t.start()
    assert storing.wait(120)
    pg.people.delete_profile(alice)
    deleted.set()
    t.join(300)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFound), outcome
    assert pg.db.query("SELECT id FROM samples WHERE owner_id = ?", (alice,)) == []
    assert user_collection(alice) not in pg.vectors.collections()
    assert_stores_sound(pg, marker)


def test_doctor_reports_and_repair_removes_writing_left_under_no_profile(small_chunks, cli):
    """What a late upload left before this fix: a ready sample and its vectors whose profile is gone."""
    pg = small_chunks
    alice = pg.people.create_profile("Alice")["id"]
    marker = "zq" + uuid.uuid4().hex[:12]
    pg.library.add_sample(alice, text=text_of(50, marker))
    with pg.db.transaction() as db:  # the profile row went, the late upload's rows stayed (what was observed)
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("DELETE FROM profiles WHERE id = ?", (alice,))
    problems = pg.library.check_consistency()
    assert any("belongs to no profile" in p for p in problems), problems
    restarted = Playground(pg.settings, embedder=pg.embedder)
    assert restarted.repair_report["orphan_samples"] == 1
    assert restarted.library.check_consistency() == []
    assert grep_data_folder(pg.settings.data_dir, marker) == []


# -- a deletion killed with SIGKILL -----------------------------------------------------------------------------------
DELETE = textwrap.dedent("""
    import sys
    from playground import Playground, Settings
    Playground(Settings.from_env()).people.delete_profile(sys.argv[1])
    print("deleted", flush=True)
""")


@pytest.mark.parametrize("stage", ["deletion:recorded", "deletion:shared-removed", "deletion:rows-deleted"])
def test_a_deletion_killed_with_sigkill_is_finished_at_restart(stage, small_chunks, tmp_path):
    pg = small_chunks
    marker = "zq" + uuid.uuid4().hex[:12]
    persona = pg.create_persona_with_examples("Walkers", "People who walk.",
                                              examples=["We walk the hills on Sundays."])["id"]
    alice = pg.people.create_profile(f"Alice {marker}", persona_id=persona, share_with_persona=True)["id"]
    bob = pg.people.create_profile("Bob", persona_id=persona, share_with_persona=True)["id"]
    pg.library.add_sample(alice, text=text_of(400, marker), title=f"walks {marker}")
    pg.library.add_sample(bob, text=text_of(100, "bob walks"))
    session = pg.conversations.new_session(alice, title=f"chat {marker}")
    from playground import LLMError

    pg.conversations.start_turn(session["id"], f"tell me about {marker}", "user", RetrievalOptions("hybrid",
                                                                                                   k=3)).preview_only(
        LLMError("no model"))
    halted = tmp_path / "halted"
    env = env_for(pg.settings.data_dir, PG_TEST_HALT=stage, PG_TEST_HALT_FILE=str(halted))
    proc = subprocess.Popen([sys.executable, "-c", DELETE, alice], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: halted.exists() or proc.poll() is not None, 240, f"the deletion to reach {stage}")
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert grep_data_folder(pg.settings.data_dir, marker), "killed mid-way: the marker is still on disk"
    doctor = subprocess.run([sys.executable, "-m", "playground", "doctor"], cwd=ROOT, capture_output=True, text=True,
                            env=env_for(pg.settings.data_dir), timeout=300)
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    assert f"finishing an interrupted deletion of profile {alice}" in report["notes"]
    assert report["problems"] == []
    assert pg.db.one("SELECT 1 AS x FROM profiles WHERE id = ?", (alice,)) is None
    assert pg.db.query("SELECT * FROM deletions") == []
    assert pg.library.list_samples(bob), "Bob's writing is intact"
    assert_stores_sound(pg, marker)


# -- "Delete sample" and "Delete persona" ---------------------------------------------------------------------------
def test_deleting_a_sample_or_a_persona_leaves_no_byte_of_it(small_chunks, tmp_path):
    pg = small_chunks
    in_sample, in_persona = "zq" + uuid.uuid4().hex[:12], "zq" + uuid.uuid4().hex[:12]
    alice = pg.people.create_profile("Alice")["id"]
    kept = pg.library.add_sample(alice, text=text_of(60, "kept writing"))
    gone = pg.library.add_sample(alice, text=text_of(300, in_sample), title=f"title {in_sample}")
    persona = pg.create_persona_with_examples("Sailors", "People who sail.", examples=[text_of(200, in_persona)])["id"]
    pg.library.delete_sample(gone["id"])
    pg.people.delete_persona(persona)

    def doctor(marker: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "playground", "doctor", "--erasure", marker], cwd=ROOT,
                              capture_output=True, text=True, env=env_for(pg.settings.data_dir), timeout=300)

    for marker in (in_sample, in_persona):
        out = doctor(marker)
        assert out.returncode == 0, out.stdout
    assert [s["id"] for s in pg.library.list_samples(alice)] == [kept["id"]]
    assert_stores_sound(pg, in_sample, in_persona)


# -- evaluate stopped by a signal -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_evaluate_stopped_by_a_signal_leaves_no_copy_of_the_corpus(sig, tmp_path):
    data = tmp_path / "data"
    env = {**env_for(data), "PLAYGROUND_LLM_BACKEND": "ollama",
           "PLAYGROUND_OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}"}
    proc = subprocess.Popen([sys.executable, "-m", "playground", "evaluate", "--corpus", str(FEDERALIST),
                             "--author-field", "author", "--text-field", "text", "--per-author", "3", "--authors", "3"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scratch = data / "scratch"
    try:
        # mid-way: the throw-away folder holds copies of the corpus (its SQLite has samples)
        wait_for(lambda: any(p.stat().st_size > 100_000 for p in scratch.rglob("playground.sqlite3*"))
                 if scratch.exists() else False, 300, "the evaluation to copy the corpus")
        assert proc.poll() is None
        proc.send_signal(getattr(signal, sig))
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    if sig == "SIGKILL":
        assert list(scratch.iterdir()), "SIGKILL cannot be caught: the folder is left until the next start"
        doctor = subprocess.run([sys.executable, "-m", "playground", "doctor"], cwd=ROOT, capture_output=True,
                                text=True, env=env, timeout=300)
        assert doctor.returncode == 0, doctor.stderr
        assert any("throw-away" in n for n in json.loads(doctor.stdout)["notes"])
    assert list(scratch.iterdir()) == []
    assert grep_data_folder(data, "FEDERALIST") == [] and grep_data_folder(data, "Publius") == []


# -- the running app sees what the CLI added ------------------------------------------------------------------------
def test_the_running_app_finds_a_sample_the_cli_added(small_chunks, tmp_path, cli):
    pg = small_chunks
    alice = pg.people.create_profile("Alice")["id"]
    pg.library.add_sample(alice, text="The harbour was quiet at dawn and the fishing boats came in late.")
    assert pg.conversations.retrieve(alice, "boats", "user", RetrievalOptions("dense",
                                                                              k=5))  # the app has the collection open
    f = tmp_path / "bread.txt"
    f.write_text("Sourdough bread needs a lively starter and a long cool rise overnight.")
    out = subprocess.run([sys.executable, "-m", "playground", "samples", "add", alice, str(f)], cwd=ROOT,
                         capture_output=True, text=True, env=env_for(pg.settings.data_dir), timeout=300)
    assert out.returncode == 0, out.stderr
    hits = pg.conversations.retrieve(alice, "sourdough bread starter", "user", RetrievalOptions("dense", k=5))
    assert any("Sourdough" in h.text for h in hits), [h.text for h in hits]


# -- failures in words for people -----------------------------------------------------------------------------------
def test_a_corrupted_local_store_is_reported_as_damaged_not_as_an_unreachable_server(tmp_path):
    data = tmp_path / "data"
    VectorStore(data / "chroma")
    db = data / "chroma" / "chroma.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[100:8192] = b"\xff" * (8192 - 100)  # the schema pages are garbage
    db.write_bytes(bytes(raw))
    out = subprocess.run([sys.executable, "-m", "playground", "doctor"], cwd=ROOT, capture_output=True, text=True,
                         env=env_for(data), timeout=300)
    assert out.returncode == 1
    assert "cannot be reached" not in out.stderr and "server" not in out.stderr.lower(), out.stderr
    assert "damaged" in out.stderr and str(data / "chroma") in out.stderr, out.stderr


# -- reading a persona collection while a deletion rebuilds it ------------------------------------------------------
def test_people_reading_a_persona_while_deletions_rebuild_it_find_every_shared_snippet(tmp_path):
    """Each deletion of a member rebuilds the persona collection (drop, re-create, copy back). Other people's
    chats read it meanwhile, from threads of this process and from another process: every read finds the shared
    writing, none fails ("Collection … does not exist") or comes back short."""
    import numpy as np

    from playground.stores.erasure import rebuild_collection

    store = VectorStore(tmp_path / "chroma")
    vectors = np.random.default_rng(0).normal(size=(40, 384)).astype(np.float32)
    store.add("p-walkers", [f"c{n}" for n in range(40)], vectors, [f"walk {n}" for n in range(40)],
              [{"owner_id": "someone"} for _ in range(40)])
    rebuilds, done = 40, threading.Event()
    outcomes: list[object] = []

    def read() -> None:
        while not done.is_set():
            try:
                outcomes.append(len(store.query("p-walkers", vectors[0], 4)))
            except BaseException as e:  # noqa: BLE001
                outcomes.append(e)

    readers = [threading.Thread(target=read) for _ in range(2)]
    other = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, numpy as np
        from pathlib import Path
        from playground.stores.vectors import VectorStore
        store, v = VectorStore(Path(sys.argv[1])), np.random.default_rng(0).normal(size=(40, 384)).astype(np.float32)
        bad = 0
        for _ in range(int(sys.argv[2])):
            try:
                bad += len(store.query("p-walkers", v[0], 4)) != 4
            except Exception as e:
                bad += 1
                print(e, file=sys.stderr)
        print(bad)
    """), str(tmp_path / "chroma"), "400"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for t in readers:
        t.start()
    try:
        for _ in range(rebuilds):
            assert rebuild_collection(store, "p-walkers") == 40
    finally:
        done.set()
        for t in readers:
            t.join(120)
    out, err = other.communicate(timeout=600)
    assert [o for o in outcomes if o != 4] == [], "a read during a rebuild failed or came back short"
    assert len(outcomes) > rebuilds, "the readers ran alongside the rebuilds"
    assert other.returncode == 0 and out.strip() == "0", err[-2000:]
