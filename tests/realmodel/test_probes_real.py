"""With the real embedded model (SmolLM2-135M-Instruct, temperature 0), the counterfactual explanation must point at
the part that carried a fact: when the full-prompt answer names a person's invented fact, the answer without the
snippet that holds it must not, while removing an unrelated part leaves the fact in. And the bias probe must be
reproducible at temperature 0 (the same probe twice gives the same answers), so a difference it shows is not noise."""

from __future__ import annotations

from playground.research.fact_recall import load_facts
from playground.research.probes import bias, counterfactual


def test_removing_the_snippet_that_holds_a_fact_removes_it_from_the_answer(real_pg):
    pg = real_pg
    checked = 0
    for person in load_facts()[1:3]:
        user = pg.people.create_profile(person["name"], occupation="teacher")
        pg.library.add_sample(user["id"], text=person["sample"], title="the note with the fact")
        pg.library.add_sample(user["id"], text="I walk to work along the canal and buy bread at the corner bakery.",
                      title="walk")
        q = person["questions"][0]
        fact = q["expect"][0]
        run = pg.run_explanation(pg.start_explanation(user["id"], q["q"], "user"))
        out = counterfactual.to_json(run)
        assert out["status"] == "complete" and out["model"] == "SmolLM2-135M-Instruct"
        if fact not in out["original"]["answer"].lower():
            continue
        checked += 1
        by_label = {v["label"].split(" · ")[-1]: v for v in out["variants"] if v["source"] == "snippet"}
        without_fact = by_label["the note with the fact"]
        assert fact not in without_fact["answer"].lower(), without_fact["answer"]
        assert without_fact["similarity_to_original"] < 0.9 and without_fact["words_removed"] > 0
        profile = next(v for v in out["variants"] if v["removed"] == "profile")
        assert fact in profile["answer"].lower(), "removing the profile (no fact in it) keeps the fact"
    assert checked >= 1, "the full-prompt answers named no fact at all: retrieval or prompting broke"


def test_the_bias_probe_is_reproducible_at_temperature_zero(real_pg):
    pg = real_pg
    model = pg.models.default_model()
    kwargs = dict(backend=pg.models, model=model, embed=pg.embedder.embed, count_tokens=pg.tokenizer.count,
                  budget=pg.settings.prompt_budget, max_tokens=40, template=pg.conversations.template_for(model))
    questions = bias.default_questions()[:2]
    first = bias.run_probe("age_range", ["18-24", "65+"], questions, **kwargs)
    second = bias.run_probe("age_range", ["18-24", "65+"], questions, **kwargs)
    assert [q.answers for q in first.questions] == [q.answers for q in second.questions]
    assert all(all(a.strip() for a in q.answers) for q in first.questions)
