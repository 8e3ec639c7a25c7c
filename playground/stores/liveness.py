"""Which unfinished work is still being done. Every upload and deletion holds a lock file in ``live/`` while it
runs and writes that file's name (its *writer*) into the rows it leaves unfinished ('pending' or 'deleting' samples,
the ``deletions`` journal). Start-up repair in another process (a second app, the CLI) then leaves that work alone,
and finishes or undoes only work whose process stopped (crashed or killed: the kernel drops the lock) or which ended
without finishing. POSIX ``flock``, like the vector store's write lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from pathlib import Path
from typing import Iterator

from playground.errors import StorageError

FOLDER = "live"


@contextlib.contextmanager
def working(data_dir: Path) -> Iterator[str]:
    """Hold a writer token for the length of the block: ``alive(data_dir, token)`` is True until it ends."""
    token = uuid.uuid4().hex
    path = data_dir / FOLDER / f"{token}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Locked under a name nobody looks at, then renamed: the file is never seen unlocked while the work runs.
        fd = os.open(path.with_suffix(".new"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StorageError(f"The data folder {data_dir} cannot be written ({e.strerror or e}), so nothing was "
                           "changed.", "Free some disk space or check the folder's permissions, then try again.") \
            from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(path.with_suffix(".new"), path)
        yield token
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)  # closing drops the lock


def alive(data_dir: Path, token: str | None) -> bool:
    """True while the work that wrote ``token`` is running (in this process or another). Rows written before
    writers were recorded carry no token: their work is over."""
    if not token:
        return False
    try:
        fd = os.open(data_dir / FOLDER / f"{token}.lock", os.O_RDWR)
    except OSError:
        return False  # removed when the work ended
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def sweep(data_dir: Path) -> int:
    """Remove the lock files of work that stopped without removing its own (a killed process); returns how many.
    (A ``.new`` file left by a process killed in the instant before its rename stays: it holds nothing.)"""
    folder = data_dir / FOLDER
    removed = 0
    for path in folder.glob("*.lock") if folder.is_dir() else []:
        if not alive(data_dir, path.stem):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
