"""Throw-away folders (an evaluation's temporary users and their corpus copies) live under the data folder, in
``<data>/scratch/``, each with an ``owner.pid`` marker, so a run stopped by any signal leaves nothing behind for
long: SIGTERM and SIGHUP unwind and remove the folder (``cli``), and after SIGKILL the next start (or ``doctor``)
removes every folder whose owner process is gone."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

MARKER = "owner.pid"


def scratch_root(data_dir: Path) -> Path:
    return data_dir / "scratch"


def _started(pid: int) -> str:
    """The process's start time (from /proc), so a re-used pid is not taken for the owner."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


@contextlib.contextmanager
def scratch_folder(data_dir: Path, prefix: str = "scratch-") -> Iterator[Path]:
    root = scratch_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        (path / MARKER).write_text(f"{os.getpid()} {_started(os.getpid())}")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _alive(marker: Path) -> bool:
    try:
        pid_text, _, started = marker.read_text().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started.strip() or _started(pid) == started.strip()


def remove_stale(data_dir: Path) -> list[str]:
    """Remove the throw-away folders whose owner process is gone; return their names."""
    root = scratch_root(data_dir)
    if not root.is_dir():
        return []
    removed = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not _alive(child / MARKER):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed
