"""Actions that write, safe under double clicks and reloads.

A second click 150 ms after the first reaches the server while the first run is still writing. Streamlit then
stops the first run at its next screen update and starts another, with the widget values the browser had at the
second click: the form may already be cleared, or still hold the same text. Three things make a write happen once:

- **the write runs in a worker thread** owned by the browser session, so a stopped run cannot cut it short (a
  sample is embedded and stored in full, or not at all); the next run finds it and shows its progress and result;
- **a form generation**: after a submission is accepted the form is drawn under a new key, so a stale click on the
  old form's button no longer exists on the server;
- **a signature** of what was submitted: the same submission again, or an empty one while the first is running or
  has just finished, attaches to the first instead of writing twice (or warning that nothing was given).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

JOBS = "write_jobs"            # {form name: Job}
GENERATIONS = "form_generations"  # {form name: int}
REPEAT_WINDOW_S = 5.0          # a repeat of a finished submission within this window is the same click

Report = Callable[[float, str], None]  # (fraction done, what is happening)


@dataclass
class Job:
    signature: str
    progress: float = 0.0
    text: str = ""
    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    finished_at: float = 0.0
    reported: bool = False

    def report(self, fraction: float, text: str) -> None:
        self.progress, self.text = max(0.0, min(1.0, fraction)), text


def signature(*parts: Any) -> str:
    """A short digest of what was submitted (bytes or text)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()[:24]


def generation(form: str) -> int:
    return int(st.session_state.get(GENERATIONS, {}).get(form, 0))


def form_key(form: str, key: str | None = None) -> str:
    """The key of a form (or of a widget in it) for the form's current generation. Generation 0 keeps the plain key,
    so the first draw of a page has the keys tests and bookmarks know."""
    base = key or form
    n = generation(form)
    return base if n == 0 else f"{base}__{n}"


def _next_generation(form: str) -> None:
    gens = st.session_state.setdefault(GENERATIONS, {})
    gens[form] = gens.get(form, 0) + 1


def current(form: str) -> Job | None:
    """The job this form started that has not been reported yet (running, or finished since the last look)."""
    job = st.session_state.get(JOBS, {}).get(form)
    return job if job is not None and not job.reported else None


def is_repeat(form: str, sig: str) -> bool:
    """Whether a submission with this signature (or an empty one: ``sig`` '') is the same click again."""
    job = st.session_state.get(JOBS, {}).get(form)
    if job is None:
        return False
    if not job.done.is_set():
        return True
    recent = time.monotonic() - job.finished_at < REPEAT_WINDOW_S
    # Only a write that succeeded absorbs repeats: after an error, the same click again deserves the error again.
    return recent and job.error is None and (not sig or sig == job.signature)


def start(form: str, sig: str, work: Callable[[Report], Any]) -> Job | None:
    """Run ``work(report)`` once in a worker thread, unless this is a repeat of the last submission (then that job
    is returned). A *different* submission while the last one still runs is not started (None): the form keeps it,
    for the page to say so. A started job moves the form to its next generation."""
    running = st.session_state.get(JOBS, {}).get(form)
    if running is not None and not running.done.is_set() and sig and sig != running.signature:
        return None
    if is_repeat(form, sig):
        return st.session_state[JOBS][form]
    job = Job(sig)

    def run() -> None:
        try:
            job.result = work(job.report)
        except BaseException as e:  # handed to the page, which shows it
            job.error = e
        finally:
            job.finished_at = time.monotonic()
            job.done.set()

    st.session_state.setdefault(JOBS, {})[form] = job
    _next_generation(form)
    threading.Thread(target=run, name=f"write-{form}", daemon=True).start()
    return job


def wait(job: Job, show: Report | None = None, poll_s: float = 0.15) -> Job:
    """Wait for the job, showing its progress. If Streamlit stops this run (another click, a reload), the job keeps
    going and the next run picks it up (call ``finish`` once the result is shown)."""
    shown = None
    while not job.done.wait(poll_s):
        if show and (job.progress, job.text) != shown:
            shown = (job.progress, job.text)
            show(*shown)
    if show:
        show(job.progress, job.text)
    return job


def finish(form: str) -> None:
    """Mark the form's job as reported: call after its result was shown or flashed (no screen update between)."""
    job = st.session_state.get(JOBS, {}).get(form)
    if job is not None:
        job.reported = True


def run_once(form: str, sig: str, work: Callable[[], Any]) -> tuple[Any, BaseException | None, bool]:
    """A quick write (creating a profile): run it at most once per submission. Returns (result, error, repeated):
    ``repeated`` True means this submission was the same click again and nothing was written."""
    if is_repeat(form, sig):
        return None, None, True
    job = Job(sig)
    st.session_state.setdefault(JOBS, {})[form] = job
    try:
        job.result = work()  # no screen update inside: Streamlit cannot stop the run half-way through it
    except Exception as e:
        job.error = e
    job.finished_at = time.monotonic()
    job.done.set()
    job.reported = True
    if job.error is None:
        _next_generation(form)  # on an error the form keeps what was typed
    return job.result, job.error, False
