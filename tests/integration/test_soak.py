"""A bounded soak: uploads, chats and deletions from several threads and a second process at once, for a
fixed number of rounds and at most a few minutes. Afterwards every SQLite file (ours and Chroma's) passes
``PRAGMA integrity_check``, SQLite and Chroma agree, and no deleted person's marker is in any file's raw bytes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

from playground import Playground, RetrievalOptions, Settings
from tests.conftest import ROOT
from tests.integration.test_concurrent_erasure import CLI_UPLOADS, all_sqlite_files, env_for, integrity, text_of
from tests.integration.test_erasure import grep_data_folder
from tests.support.fake_llm import EchoBackend

ROUNDS, DEADLINE_S = 4, 300


def test_uploads_chats_and_deletions_at_once_leave_sound_agreeing_stores(tmp_path, embedder):
    settings = Settings.from_env(env_for(tmp_path / "data"))
    pg = Playground(settings, embedder=embedder, backend=EchoBackend())
    persona = pg.create_persona_with_examples("Walkers", "People who walk.",
                                              examples=["We walk the hills on Sundays."])["id"]
    stay = [pg.people.create_profile(f"Stays {n}", persona_id=persona, share_with_persona=True)["id"] for n in range(2)]
    for who in stay:
        pg.library.add_sample(who, text=text_of(80, f"first words of {who}"))
    markers: list[str] = []
    errors: list[BaseException] = []
    stop_at = time.monotonic() + DEADLINE_S

    def loop(body):
        def run() -> None:
            try:
                for n in range(ROUNDS):
                    if time.monotonic() > stop_at:
                        return
                    body(n)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
        return threading.Thread(target=run)

    def upload(n: int, who: str) -> None:
        pg.library.add_sample(who, text=text_of(200, f"{who} round {n}"))

    def chat(n: int) -> None:
        session = pg.conversations.new_session(stay[0], title=f"walk {n}")
        for text in ("Where should we walk?", "And after that?"):
            turn = pg.conversations.start_turn(session["id"], text, "persona", RetrievalOptions("hybrid", k=4))
            list(turn.stream())

    def come_and_go(n: int) -> None:
        marker = "MK" + uuid.uuid4().hex[:12]
        markers.append(marker)
        who = pg.people.create_profile(f"Visitor {marker}", persona_id=persona, share_with_persona=True)["id"]
        pg.library.add_sample(who, text=text_of(150, marker))
        session = pg.conversations.new_session(stay[1], title="with a visitor")
        list(pg.conversations.start_turn(session["id"], "Tell me about walking", "persona",
                           RetrievalOptions("hybrid", k=4)).stream())
        pg.people.delete_profile(who)

    files = []
    for n in range(ROUNDS):
        f = tmp_path / f"cli{n}.txt"
        f.write_text(text_of(200, f"cli round {n}"))
        files.append(str(f))
    cli_user = pg.people.create_profile("Uses the CLI")["id"]
    cli = subprocess.Popen([sys.executable, "-c", CLI_UPLOADS, cli_user, *files], cwd=ROOT, env=env_for(
        settings.data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = [loop(lambda n, w=w: upload(n, w)) for w in stay] + [loop(chat), loop(come_and_go)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE_S + 120)
        _, err = cli.communicate(timeout=DEADLINE_S)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert errors == [] and cli.returncode == 0, (errors, err[-2000:])
    assert markers, "at least one person came and went"
    checks = integrity(*all_sqlite_files(settings.data_dir))
    assert len(checks) >= 2 and set(checks.values()) == {"ok"}, checks
    assert pg.library.check_consistency() == []
    assert len(pg.library.list_samples(cli_user)) == ROUNDS
    assert grep_data_folder(settings.data_dir, *markers) == []
