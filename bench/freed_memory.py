"""What overwriting freed memory costs (stores.freed_memory, glibc's ``M_PERTURB``): end-to-end ingestion
(read, chunk, embed, store) in a process with the switch on, against the same ingestion in a process with it off,
measured in the same run, alternating which goes first. Target: throughput ratio on/off ≥ 0.90.

Each side is its own child process (the switch is process-wide and cannot be turned off once on), so each child
pays its own model load before the timed part; only the ingestion itself is timed.

    .venv/bin/python bench/freed_memory.py [--essays 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import federalist, fresh_playground, report_repeated


def child(switch: str, essays: int) -> None:
    from playground.stores import freed_memory

    if switch == "off":
        freed_memory._switch_on = lambda: False  # the baseline: this process never turns it on
    pg = fresh_playground()
    pg.warm_up()
    user = pg.people.create_profile("Bench")["id"]
    t0 = time.perf_counter()
    n = sum(pg.library.add_sample(user, filename=f"{r['doc_id']}.txt", data=r["text"].encode())["n_chunks"]
            for r in federalist()[:essays])
    elapsed = time.perf_counter() - t0
    print(json.dumps({"on": freed_memory.is_on(), "chunks_per_s": n / elapsed, "chunks": n}))


def run(switch: str, essays: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", switch, "--essays", str(essays)], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent.parent, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["on"] == (switch == "on"), got
    return got


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--essays", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["on", "off"])
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.essays)
    pairs = []
    for rep in range(args.repeat):
        order = ["on", "off"] if rep % 2 == 0 else ["off", "on"]
        got = {s: run(s, args.essays) for s in order}
        pairs.append((got["on"]["chunks_per_s"], got["off"]["chunks_per_s"]))
    print(f"{got['on']['chunks']} chunks from {args.essays} essays, {args.repeat} repetitions, each side its own process")
    report_repeated("Ingestion with freed memory overwritten (chunks/s)", [("switch on vs off", pairs, 0.90)])


if __name__ == "__main__":
    main()
