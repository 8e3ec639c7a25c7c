"""Two browsers press "Load demo data" at once. One used to get an error (and a progress bar that never
ended); now the second waits for the first and finds everything loaded: one set of demo profiles and essays."""

from __future__ import annotations

import threading

from playground import Playground, Settings


def test_two_loads_at_once_both_succeed_and_load_once(no_llm_env, embedder):
    settings = Settings.from_env(no_llm_env)
    browsers = [Playground(settings, embedder=embedder), Playground(settings, embedder=embedder)]
    start = threading.Barrier(2)
    results: list = [None, None]

    def press(n: int) -> None:
        start.wait()
        try:
            results[n] = browsers[n].demo.load(essays_per_author=1)
        except Exception as e:  # what a browser would have shown
            results[n] = e

    threads = [threading.Thread(target=press, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(isinstance(r, Exception) for r in results), results
    assert [p["display_name"] for p in results[0]] == [p["display_name"] for p in results[1]]
    profiles = browsers[0].people.list_profiles()
    assert len(profiles) == 3, [p["display_name"] for p in profiles]
    assert [p["n_samples"] for p in profiles] == [1, 1, 1]


def test_a_second_load_waits_and_reports_nothing_added(no_llm_env, embedder):
    pg = Playground(Settings.from_env(no_llm_env), embedder=embedder)
    first, second, waited = {}, {}, []
    gate = threading.Event()
    t = threading.Thread(target=pg.demo.load, kwargs=dict(
        essays_per_author=1, report=first, progress=lambda *a: gate.set()))
    t.start()
    assert gate.wait(120)
    pg.demo.load(essays_per_author=1, report=second, on_wait=lambda: waited.append(1))
    t.join(120)
    assert first["added"] == 3 and second["added"] == 0 and waited == [1], (first, second, waited)
