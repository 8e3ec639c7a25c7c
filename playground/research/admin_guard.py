"""The admin passphrase cannot be guessed without limit: failures are counted in SQLite per scope (``admin``, or a
study), and after a few of them every attempt, right or wrong, waits out a pause that doubles with each further
failure (up to :data:`MAX_LOCK_S`); wrong guesses sent during a pause count too. The price: someone hammering the
page keeps the real admin waiting up to 15 minutes after the hammering stops (a restart does not help; deleting
the row from ``admin_attempts`` does). The count lives in the database, so reloading the page, a new browser or a
restarted server does not reset it; a right passphrase outside a lock-out clears it.
"""

from __future__ import annotations

import hmac
import math
import time
from typing import TYPE_CHECKING, Callable

from playground.errors import InvalidInput

if TYPE_CHECKING:
    from playground.stores.db import Database

FREE_FAILURES = 5  # typos a person may make before any delay
MAX_LOCK_S = 15 * 60


class LockedOut(InvalidInput):
    """Too many wrong passphrases: wait ``wait_s`` seconds."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        wait = f"{math.ceil(wait_s)} seconds" if wait_s < 120 else f"{math.ceil(wait_s / 60)} minutes"
        super().__init__(f"Too many wrong passphrases: unlocking is paused for {wait}.",
                         "Wait, then type the passphrase once, carefully. Every wrong attempt doubles the pause.")


def delay_after(failures: int) -> float:
    """Seconds every attempt waits after ``failures`` failures in a row."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(MAX_LOCK_S, 2 ** (failures - FREE_FAILURES + 1)))


def check_passphrase(db: "Database", scope: str, given: str, secret: str,
                     clock: Callable[[], float] = time.time) -> bool:
    """True for the right passphrase; False for a wrong one (counted); LockedOut while a pause runs (an attempt in a
    pause is refused unchecked, and a wrong guess or a right one alike tells nothing). One IMMEDIATE transaction, so
    many browsers guessing at once are counted one by one."""
    with db.transaction() as conn:
        row = conn.execute("SELECT failures, locked_until FROM admin_attempts WHERE scope = ?", (scope,)).fetchone()
        failures, locked_until = (row[0], row[1]) if row else (0, 0.0)
        t = clock()
        if t < locked_until:
            # Refused unchecked; a wrong guess sent during the pause still counts and lengthens it, so a burst of
            # guesses cannot wait out a short pause and then try the right one.
            if not (secret and hmac.compare_digest(given.encode(), secret.encode())):
                failures += 1
                locked_until = max(locked_until, t + delay_after(failures))
                conn.execute("UPDATE admin_attempts SET failures = ?, locked_until = ?, last = ? WHERE scope = ?",
                             (failures, locked_until, t, scope))
            raise_after = locked_until - t
        else:
            raise_after = 0.0
            if secret and hmac.compare_digest(given.encode(), secret.encode()):
                conn.execute("DELETE FROM admin_attempts WHERE scope = ?", (scope,))
                return True
            failures += 1
            conn.execute("INSERT INTO admin_attempts (scope, failures, locked_until, last) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(scope) DO UPDATE SET failures = excluded.failures, "
                         "locked_until = excluded.locked_until, last = excluded.last",
                         (scope, failures, t + delay_after(failures), t))
    if raise_after:
        raise LockedOut(raise_after)
    return False


def wait_left(db: "Database", scope: str, clock: Callable[[], float] = time.time) -> float:
    """Seconds until the next attempt is checked (0: now)."""
    row = db.one("SELECT locked_until FROM admin_attempts WHERE scope = ?", (scope,))
    return max(0.0, row["locked_until"] - clock()) if row else 0.0
