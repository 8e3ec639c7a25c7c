"""Freed memory overwritten before it is handed out again, so a deleted person's text cannot reach a file through
a buffer that was never cleared.

Embedded Chroma writes a collection's vector-index files (``data_level0.bin``, ``length.bin``) from buffers its
hnswlib allocates with ``malloc`` and never clears beyond the elements the index holds. Any process that opens a
collection writes them again on its first read (it loads the index into fresh buffers and persists them), so the
unused tail of the files holds whatever that process's heap held before: documents Chroma had just encoded or read,
a deleted person's among them. Measured here (chromadb 1.5.9): a process that stored and deleted 900 marked texts,
then only counted the records of someone else's collection, wrote the mark into that collection's
``data_level0.bin`` in 2 runs of 5; with glibc's ``M_PERTURB`` set, in 0 of 5, and the tail was all zero bytes.

``M_PERTURB`` with byte 0xFF makes glibc fill every freed block with 0xFF and every block it hands out with 0x00,
in every thread's arena (Rust's and C++'s allocations go through the same ``malloc``). It costs a ``memset`` per
allocation and per release. Other C libraries (macOS, Windows, musl) have no such switch: there, the byte-level
purge (``chroma_purge.scrub_segment``) clears the tails at deletion time, and a later read in a process that still
holds freed text can write some of it again until the next purge; ``doctor`` says which applies."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_PERTURB = -6  # glibc's malloc.h
_FILL = 0xFF  # freed blocks become 0xFF; blocks handed out become 0xFF ^ 0xFF = 0x00

_lock = threading.Lock()
_state: dict[str, bool] = {}


def overwrite_freed_memory() -> bool:
    """Turn the overwriting on for this process (once; later calls only report). True when it is on."""
    with _lock:
        if "on" not in _state:
            _state["on"] = _switch_on()
        return _state["on"]


def is_on() -> bool:
    return _state.get("on", False)


def _switch_on() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
        gnu_version = libc.gnu_get_libc_version  # glibc only: musl has mallopt as a no-op
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    gnu_version.restype = ctypes.c_char_p
    return bool(gnu_version()) and mallopt(M_PERTURB, _FILL) == 1
