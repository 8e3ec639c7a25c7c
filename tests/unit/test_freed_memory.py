"""Freed memory is overwritten before malloc hands it out again (stores.freed_memory), the guard that keeps a
deleted person's text out of buffers Chroma writes to disk uncleared. Each check runs in a fresh process: the switch
is process-wide and cannot be turned off again."""

from __future__ import annotations

import ctypes.util
import platform
import subprocess
import sys

from tests.conftest import ROOT

REUSE = """
import ctypes, sys
if sys.argv[1] == "on":
    from playground.stores.freed_memory import overwrite_freed_memory
    assert overwrite_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
found = 0
# Blocks under about 1 KB go through glibc's per-thread cache, which M_PERTURB skips (measured: a freed 600-byte
# block comes back with its text); the index buffers Chroma writes out are larger, and the read lock covers the rest.
for size in (4096, 70000, 167600):
    p = libc.malloc(size)
    ctypes.memmove(p, b"Alice's secret garden " * (size // 22), size // 22 * 22)
    libc.free(p)
    q = libc.malloc(size)  # the same block, handed out again
    found += ctypes.string_at(q, size).count(b"secret garden")
    libc.free(q)
print(found)
"""


def reused_block_text(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", REUSE, mode], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and bool(ctypes.util.find_library("c"))


def test_a_block_handed_out_again_holds_none_of_the_text_freed_in_it():
    if not glibc():  # elsewhere the switch must say it is off, never pretend
        from playground.stores.freed_memory import overwrite_freed_memory

        assert overwrite_freed_memory() is False
        return
    assert reused_block_text("off") > 0, "without the switch, malloc hands back the freed text (the hazard)"
    assert reused_block_text("on") == 0


def test_opening_the_vector_store_turns_it_on_and_doctor_says_so(tmp_path):
    script = ("import json, sys; from pathlib import Path; from playground.stores.vectors import VectorStore; "
              "from playground.stores import freed_memory; VectorStore(Path(sys.argv[1])); "
              "print(json.dumps(freed_memory.is_on()))")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "chroma")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("true" if glibc() else "false")
