"""In AppTest from app.py: the style card on the Profile page (lines with their evidence, an edit kept, the same
numbers as the Writing samples page's chart) and its switch in the Chat inspector, which puts a labelled “style card”
part into the prompt or leaves it out."""

import json

from tests.app.conftest import button, make_user, no_errors, paste_box, texts

CHATTY = ("omg lol the bus was late AGAIN!! i was sooo mad. whatever haha. u coming to the game tmrw?? lol. "
          "yay pizza night!!! best. day. ever. my sister burnt the garlic bread lol. ttyl :)")


def test_profile_page_shows_the_style_card_with_evidence_and_keeps_an_edit(app_no_llm):
    at = app_no_llm
    pid = make_user(at, "Kim", writing=CHATTY)
    at.switch_page("pages/1_Profile.py").run()
    no_errors(at)
    table = next(d.value for d in at.dataframe if "habit" in d.value.columns)
    habits = " ".join(table["habit"].tolist())
    assert "slang: “lol”" in habits and "many exclamation marks" in habits
    assert all("other writers" in e or "formality" in e for e in table["measured"].tolist())
    area = next(a for a in at.text_area if a.key.startswith(f"profile_style_card_{pid}"))
    assert "“lol”" in area.value
    at.switch_page("pages/2_Writing_samples.py").run()
    no_errors(at)
    chart = json.loads(next(c for c in at.get("plotly_chart") if "words per sentence" in c.proto.spec).proto.spec)
    bars = {t["hovertemplate"].split("<br>")[1].split(": %{y}")[0]: t["y"][0] for t in chart["data"]
            if t["name"] == "Kim (you)"}
    shared = [(e, bars[e.split(": ")[0]]) for e in table["measured"].tolist() if e.split(": ")[0] in bars]
    assert shared, (bars, table["measured"].tolist())  # "? per 100 sentences" stands out in this writing
    for evidence, value in shared:
        assert evidence.startswith(f"{evidence.split(': ')[0]}: {value:.1f} ("), (evidence, value)
    at.switch_page("pages/1_Profile.py").run()
    area = next(a for a in at.text_area if a.key.startswith(f"profile_style_card_{pid}"))
    area.input("Chatty and cheerful; lots of exclamation marks.")
    button(at, "Save my style card").click().run()
    no_errors(at)
    at.switch_page("pages/1_Profile.py").run()
    area = next(a for a in at.text_area if a.key.startswith(f"profile_style_card_{pid}"))
    assert area.value == "Chatty and cheerful; lots of exclamation marks."
    page = texts(at)
    assert "edited by you" in page, page[page.find("Your style card"):][:800]


def test_chat_inspector_switch_adds_the_style_card_to_the_prompt_and_removes_it(app_no_llm):
    at = app_no_llm
    make_user(at, "Kim", writing=CHATTY)
    at.switch_page("pages/3_Chat.py").run()
    at.checkbox(key="chat_style_card").check().run()
    at.chat_input(key="chat_input").set_value("What should I do this weekend?").run()
    no_errors(at)
    latest = texts(at).split("Latest turn")[1]
    assert "style card" in latest and "Style card of this person" in latest and "“lol”" in latest

    at.checkbox(key="chat_style_card").uncheck().run()
    no_errors(at)
    page = texts(at)
    preview = page.split("Preview under the current setting (user)")[1].split("Latest turn, as it was sent")[0]
    assert "Style card of this person" not in preview and "profile · Kim" in preview


def test_evaluate_page_runs_the_trained_method_and_explains_what_makes_each_person_recognisable(app_no_llm):
    at = app_no_llm
    make_user(at, "Kim", writing=CHATTY)
    paste_box(at).input("lol my cat ate my homework!! omg. i cant even. haha bye :)")
    button(at, "Add to my samples").click().run()
    make_user(at, "Clerk", writing="The committee met on Tuesday to review the budget; the treasurer reported that "
                                   "costs have risen, and we agreed to seek a second quotation.")
    paste_box(at).input("Minutes of the annual meeting: the chair welcomed members, "
                                                     "the accounts were approved, and the secretary was re-elected.")
    button(at, "Add to my samples").click().run()
    at.switch_page("pages/6_Evaluate.py").run()
    assert "Trust *trained*" in texts(at)
    assert at.radio(key="eval_method").value == "trained", "the method to trust is the default"
    button(at, "Run attribution").click().run()
    no_errors(at)
    page = texts(at)
    assert "Protocol: stratified 2-fold cross-validation" in page
    button(at, "Explain").click().run()
    no_errors(at)
    chart = at.get("plotly_chart")[-1]
    assert "n-grams the classifier weighs most" in chart.proto.spec and "punctuation vs others" in chart.proto.spec


def test_personas_page_shows_each_personas_style_card_from_its_examples(app_no_llm):
    at = app_no_llm
    at.switch_page("pages/4_Personas.py").run()
    no_errors(at)
    page = texts(at)
    concise = page.split("Get to the point")[1]
    assert "Style card" in concise and "short sentences" in concise.split("Source:")[0]
