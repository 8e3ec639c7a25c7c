"""Generation with the embedded model (SmolLM2-135M-Instruct via xllamacpp), through the app vs raw.

In one run, alternating, on the same process-wide ``xllamacpp.Server`` and the same messages and sampling (the prompt
a real user turn builds from the demo data), with llama.cpp's prompt cache off for every request (``cache_prompt``
false) so neither side reuses the other's prompt:
1. decode speed, tokens/s: through ``Turn.stream`` (the door's slot pool, LangChain chat model, trace) vs
   ``stream_server`` on the server directly. Target ≥ 0.95×.
2. time to first token: through the app, timed from the message arriving (retrieval, prompt, saving included), vs
   raw + the turn overhead (the same turn with no generation). Target ≤ 1×.
3. 30 sessions asking at once (threads, as Streamlit serves sessions): every one answered, no errors; p50/p95.
4. resident memory of the process with the embedding model loaded, before and after the embedded model loads.

    .venv/bin/python bench/generation.py [--repeat 5] [--tokens 64] [--sessions 30]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time

from common import at_least, at_most, fresh_playground, p, report


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_run(server, messages, tokens: int, sampling: dict) -> tuple[float, float, int]:
    """(ttft s, decode tokens/s, tokens) for one raw streaming request."""
    from playground.models.embedded_llm import stream_server

    t0 = time.perf_counter()
    first = last = None
    n = 0
    request = {"messages": messages, "temperature": 0.0, "max_tokens": tokens, **sampling}
    for chunk in stream_server(server, request):
        if any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
            last = time.perf_counter()
            first = first or last
            n += 1
    assert first is not None and last is not None
    return first - t0, (n - 1) / (last - first) if n > 1 and last > first else 0.0, n


def app_run(pg, session_id: str, question: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    turn = pg.conversations.start_turn(session_id, question, "user")
    first = last = None
    n = 0
    for _ in turn.stream():
        last = time.perf_counter()
        first = first or last
        n += 1
    assert first is not None and last is not None and turn.status == "complete"
    return first - t0, (n - 1) / (last - first) if n > 1 and last > first else 0.0, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--sessions", type=int, default=30)
    args = ap.parse_args()

    from playground.models.embedded_llm import EMBEDDED_SAMPLING, load_server

    pg = fresh_playground(PLAYGROUND_LLM_BACKEND="embedded", PLAYGROUND_TEMPERATURE="0",
                          PLAYGROUND_MAX_TOKENS=str(args.tokens), PLAYGROUND_HISTORY_TURNS="0")
    hamilton = pg.demo.load(essays_per_author=1)[0]
    pg.warm_up()
    mem_before = rss_mb()
    backend = pg.backend
    backend.sampling = {**EMBEDDED_SAMPLING, "cache_prompt": False}  # both sides: same sampling, no prompt reuse
    server = load_server(backend.path, backend.n_ctx, backend.n_threads, backend.slots)
    mem_after = rss_mb()
    question = "Why does the union need a navy?"
    session = pg.conversations.new_session(hamilton["id"])
    # The turn overhead: the same turn without generation.
    overheads = []
    for _ in range(args.repeat + 2):
        t0 = time.perf_counter()
        turn = pg.conversations.start_turn(session["id"], question, "user")
        overheads.append(time.perf_counter() - t0)
        turn.answer, turn.status = "", "complete"
        pg.conversations.save_answer(turn)
    messages = pg.conversations.start_turn(pg.conversations.new_session(hamilton["id"])["id"], question,
                                           "user").prompt.messages
    print(f"prompt: {sum(len(m['content']) for m in messages)} characters in {len(messages)} messages")
    raw_run(server, messages, args.tokens, backend.sampling)  # warm
    raws, apps = [], []
    for i in range(args.repeat):  # alternate, so drift on a shared machine hits both sides alike
        order = [0, 1] if i % 2 == 0 else [1, 0]
        for side in order:
            if side == 0:
                raws.append(raw_run(server, messages, args.tokens, backend.sampling))
            else:
                apps.append(app_run(pg, pg.conversations.new_session(hamilton["id"])["id"], question))
    raw_tps = statistics.median(r[1] for r in raws)
    app_tps = statistics.median(a[1] for a in apps)
    raw_ttft = statistics.median(r[0] for r in raws)
    app_ttft = statistics.median(a[0] for a in apps)
    over = statistics.median(overheads)
    print(f"raw: ttft {1000 * raw_ttft:.0f} ms, {raw_tps:.1f} tok/s, {raws[0][2]} tokens; "
          f"app: ttft {1000 * app_ttft:.0f} ms, {app_tps:.1f} tok/s, {apps[0][2]} tokens; "
          f"turn overhead p50 {1000 * over:.1f} ms")

    # Many people at once: one model, its slots, a fair queue.
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    most_waiting = [0]
    gate = threading.Barrier(args.sessions)

    def person(n: int) -> None:
        sid = pg.conversations.new_session(hamilton["id"])["id"]
        gate.wait()
        t0 = time.perf_counter()
        turn = pg.conversations.start_turn(sid, f"{question} (asked by person {n})", "user")
        try:
            text = "".join(turn.stream())
            status = turn.status if text.strip() else "empty"
        except Exception as e:  # counted, not hidden
            status = f"error: {e}"
        with lock:
            results.append((status, time.perf_counter() - t0, n))
            most_waiting[0] = max(most_waiting[0], sum(pg.models.generation_queue.snapshot()))

    threads = [threading.Thread(target=person, args=(n,)) for n in range(args.sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ok = [r for r in results if r[0] == "complete"]
    lat = [r[1] for r in results]
    print(f"{args.sessions} sessions at once: {len(ok)} complete, {len(results) - len(ok)} not "
          f"({sorted({r[0] for r in results if r[0] != 'complete'})}); latency p50 {p(lat, .5):.1f} s, "
          f"p95 {p(lat, .95):.1f} s, all done in {wall:.1f} s; answers of up to {pg.settings.max_tokens} tokens")
    report(f"Generation with the embedded model (SmolLM2-135M-Instruct, xllamacpp, {backend.slots} slots)", [
        ("decode speed through the app (tokens/s) vs raw xllamacpp", app_tps, raw_tps, at_least(0.95)),
        ("time to first token through the app (ms) vs raw + turn overhead", 1000 * app_ttft,
         1000 * (raw_ttft + over), at_most(1.0)),
        (f"sessions answered of {args.sessions} asking at once", len(ok), args.sessions, at_least(1.0)),
        ("process memory with the embedded model loaded (MB) vs without", mem_after, mem_before, None),
    ])


if __name__ == "__main__":
    main()
