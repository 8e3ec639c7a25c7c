"""The small prompt template with the real embedded model, on facts it was never tuned on (written for this test,
in neither scripts/fact_check/ set nor playground/data/fact_recall.json): each fact sits among unrelated sentences,
and the owner's plain questions must get it back, with no refusal, while global answers and another person's
answers never contain it. Fails when the template, retrieval or the granularity switch breaks personalization."""

from __future__ import annotations

import re

PEOPLE = [
    {"name": "Rosa Tamm", "samples": [
        ("Kitchen", "The kettle is broken again. My goat is called Wimbleton and she eats my socks. The bus was late."),
        ("Errands", "The post office closed early. I bought too many lemons. The parking meter ate my coins.")],
     "questions": ["What is my goat called?", "What is my goat's name?"], "expect": "wimbleton"},
    {"name": "Ivo Brandt", "samples": [
        ("Roots", "The shop sells cheap umbrellas. I grew up in Corvastle, a town of red roofs. It rained all day."),
        ("Week", "My laptop froze twice. The canteen served beans. I forgot my gloves on the train.")],
     "questions": ["Where did I grow up?", "What is the name of my home town?"], "expect": "corvastle"},
]
REFUSAL = re.compile(r"(?i)i'?m sorry|as an ai|as a chatbot|not equipped|i (?:do not|don't|cannot|can't) "
                     r"(?:have|access|provide)")


def _ask(pg, profile_id, question, mode):
    turn = pg.conversations.start_turn(pg.conversations.new_session(profile_id)["id"], question, mode)
    return "".join(turn.stream()), turn


def test_fresh_facts_reach_their_owner_through_the_small_template_and_nobody_else(real_pg):
    pg = real_pg
    ids = {}
    for person in PEOPLE:
        ids[person["name"]] = pg.people.create_profile(person["name"])["id"]
        for title, text in person["samples"]:
            pg.library.add_sample(ids[person["name"]], text=text, title=title)
    used, refusals, asked, leaks = 0, 0, 0, []
    for i, person in enumerate(PEOPLE):
        other = PEOPLE[1 - i]
        for q in person["questions"]:
            answer, turn = _ask(pg, ids[person["name"]], q, "user")
            assert turn.trace["template"] == "small" and turn.prompt.parts[0].label == "instructions · small template"
            asked += 1
            used += person["expect"] in answer.lower()
            refusals += bool(REFUSAL.search(answer))
            for mode, asker in (("global", person), ("user", other)):
                leaked, _ = _ask(pg, ids[asker["name"]], q, mode)
                if person["expect"] in leaked.lower():
                    leaks.append((mode, asker["name"], q, leaked))
    assert used >= 3, f"only {used} of {asked} fresh facts reached their owner's answers"
    assert refusals <= 1, refusals
    assert not leaks, leaks
