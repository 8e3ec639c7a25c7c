"""The shared top of every page: page config, the sidebar (active profile, model status), and the Playground."""

from __future__ import annotations

import time
from typing import Any, Callable

import streamlit as st

from playground import Playground, PlaygroundError
from playground.people import privacy
from playground.people.owner import Owner, may_change

from . import state, writes
from .page_registry import PAGES, icon_of
from .safe_text import md
from .services import model_status, playground


def link_to(pg: Playground, title: str, label: str | None = None) -> None:
    """A link to a page by its registry title, drawn only while the workshop shows that page."""
    if title not in hidden_pages(pg):
        page = next(p for p in PAGES if p.title == title)
        st.page_link(page.path, label=label or page.title, icon=page.icon)


def page_setup(title: str, intro: str) -> Playground:
    """Call first on every page, with its title as ``page_registry`` declares it. Returns the Playground; stops the
    page with a readable message if it can't start, or if the workshop hides it."""
    st.set_page_config(page_title=f"{title} · Personalization Playground", page_icon=icon_of(title), layout="wide")
    try:
        pg = playground()
    except PlaygroundError as e:
        st.error(f"The playground could not start: {e}")
        st.stop()
    # Refused here, as the page starts, rather than left out of an st.navigation list: next to a pages/ folder (the
    # design's layout) Streamlit 1.67 runs a page file directly, the pages/ way, until some run has called
    # st.navigation (a new server process, and every AppTest run), so a page left out of the list would still open
    # by its address.
    if title in hidden_pages(pg):
        st.info("This page is switched off for this workshop.")
        st.stop()
    st.title(title)
    st.caption(intro)
    _show_flashes(title)
    _sidebar(pg)
    return pg


FLASH_GRACE_S = 2.0


def flash(kind: str, text: str) -> None:
    """Show ``text`` (kind: success, info, warning, error) after the next rerun."""
    st.session_state.setdefault(state.FLASH, []).append([kind, text, None, ""])


def _show_flashes(page: str) -> None:
    """Show the flashes in the next run, and again in runs of the same page within ``FLASH_GRACE_S``: the run that
    showed one can be replaced at once by another (a deleted profile's selector changing, a hurried second click),
    which would otherwise find nothing to show. Never on another page: a confirmation does not follow people."""
    now = time.monotonic()
    kept = []
    for item in st.session_state.get(state.FLASH, []):
        if item[2] is None:
            item[2], item[3] = now, page
        elif item[3] != page or now - item[2] > FLASH_GRACE_S:
            continue
        getattr(st, item[0])(item[1])  # flash() callers escape the people's text they include (md)
        kept.append(item)
    st.session_state[state.FLASH] = kept


def select_profile(profile_id: str | None) -> None:
    """Make a profile the active one everywhere. The sidebar's box is drawn under a new key: a second click that
    left the browser before this run finished still carries the old box's value, and must not switch back."""
    st.session_state[state.PROFILE] = profile_id
    st.session_state.pop(sidebar_key(), None)
    st.session_state[state.SIDEBAR_GEN] = st.session_state.get(state.SIDEBAR_GEN, 0) + 1


def sidebar_key() -> str:
    """The key of the sidebar's profile box ("sidebar_profile" until a page selects a profile itself)."""
    n = st.session_state.get(state.SIDEBAR_GEN, 0)
    return "sidebar_profile" if not n else f"sidebar_profile__{n}"


def hidden_pages(pg: Playground) -> list[str]:
    return list(pg.workshop.get_preset().get("hidden_pages", []))


def browser_token() -> str:
    """This browser's resume code (what its private profiles are tagged with), kept in the session only: the address
    bar is on the projector. An old ``?me=`` link is read once and removed from the address bar."""
    token = st.session_state.get(state.BROWSER)
    if not token:
        # Only a resume code is accepted from the address bar (Owner.from_browser_input): never "hidden:admin",
        # "study:…" or public, which would list what this browser may not see.
        sent = Owner.from_browser_input(st.query_params.get("me"))
        token = sent.token if sent else privacy.new_resume_code()
        st.session_state[state.BROWSER] = token
    if "me" in st.query_params:
        del st.query_params["me"]
    return token


def browser_key() -> str:
    """What tells this browser's own conversation on someone else's profile apart, also after a reload (the resume
    code lives in the session only, and a reload makes a new session, which hid the answer the reload interrupted).
    Streamlit's XSRF cookie stays with the browser, but the server re-masks it on every page load
    (``2|mask|token^mask|time``): the key is the unmasked token, so the same browser gets the same key."""
    raw = (st.context.cookies.get("_streamlit_xsrf") if st.context.cookies else None) or ""
    parts = raw.strip("\"'").split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return "cookie:" + bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    except ValueError:
        pass
    return f"cookie:{raw}" if raw else browser_token()


def _resume_box(pg: Playground, private: bool) -> None:
    """The code that brings this browser's profiles back after a reload (private workshops), or gives back the right
    to edit the profiles it made (public ones), shown only on request."""
    with st.expander("My resume code", icon=":material/key:"):
        code = browser_token()
        st.caption("Profiles you make here are private to this browser session. After a reload, or on another "
                   "device, type this code to get them back. Keep it to yourself, like a password." if private else
                   "Everyone can see and chat with the profiles you make, but only this browser session can edit "
                   "or delete them. After a reload, type this code to edit them again. Keep it to yourself.")
        if st.toggle("Show my code", key="sidebar_show_code"):
            st.code(code, language=None)
        with st.form("sidebar_resume", clear_on_submit=True, border=False):
            typed = st.text_input("Come back with a code", key="sidebar_resume_code", type="password",
                                  placeholder="otter-maple-flint-42")
            if st.form_submit_button("Resume"):
                found = privacy.normalise_code(typed)
                if found and pg.people.code_has_profiles(found):
                    st.session_state[state.BROWSER] = found
                    select_profile(None)
                    flash("success", "Welcome back: your profiles are in the list above.")
                    st.rerun()
                st.error("No profiles have that code. Check the spelling: three words and a number, with dashes.")


def owner_token(pg: Playground) -> str:
    """What new profiles are tagged with: this browser's token in a private workshop, else '' (public)."""
    return browser_token() if pg.workshop.get_preset()["private_profiles"] else ""


def creator_code() -> str:
    """What a profile made in this browser session records as its creator (this browser's resume code)."""
    return browser_token()


def may_edit(profile: dict[str, Any]) -> bool:
    """Whether this browser may edit or delete ``profile`` and add or delete its writing (people/owner.py): the
    browser that made it, or the admin. Demo profiles are read-only to participants."""
    return may_change(profile, browser_token(), admin=bool(st.session_state.get(state.ADMIN_OK)))


def read_only_note(profile: dict[str, Any]) -> None:
    from playground.people.privacy import demo_names

    whose = ("a demo profile" if profile["display_name"] in demo_names() and not profile.get("creator")
             else "made in another browser session")
    st.info(f"“{md(profile['display_name'])}” is {whose}: you can chat with it (your conversation is your own), "
            "but not change it, its writing or delete it. Create your own profile to do that; if you made this one, "
            "type your resume code in the sidebar.", icon=":material/lock:")


def visible_profiles(pg: Playground) -> list[dict[str, Any]]:
    """The profiles this browser may see: all of them, or in a private workshop the public ones and its own."""
    return pg.people.list_profiles(visible_to=browser_token() if pg.workshop.get_preset()["private_profiles"] else None)


def _sidebar(pg: Playground) -> None:
    with st.sidebar:
        hidden = hidden_pages(pg)
        for page in PAGES:
            if page.title not in hidden:
                st.page_link(page.path, label=page.title, icon=page.icon)
        st.divider()
        profiles = visible_profiles(pg)
        ids = [p["id"] for p in profiles]
        names = {p["id"]: p["display_name"] for p in profiles}
        wanted = st.session_state.get(state.PROFILE) or st.query_params.get("profile")
        if wanted not in ids:
            wanted = ids[0] if ids else None
        if ids:
            choice = st.selectbox("Active profile", ids, index=ids.index(wanted) if wanted else 0,
                                  format_func=lambda i: names.get(i, i), key=sidebar_key())
            st.session_state[state.PROFILE] = choice
            st.query_params["profile"] = choice  # a reload resumes with the same profile
        else:
            st.session_state[state.PROFILE] = None
            st.info("No profiles yet. Create one on the Profile page, or load the demo data on Home.")

        _resume_box(pg, bool(pg.workshop.get_preset()["private_profiles"]))
        status = model_status(pg)
        if status.state == "busy" or (status.reachable and status.model):
            st.caption(f"Model: **{md(status.model or 'running')}** via {status.backend} ✓"
                       + (f" · ⏳ {md(status.note)}" if status.note else ""))
            if status.backend == "embedded":
                st.caption("A very small model built into the playground: expect rough answers. For better ones, "
                           "run Ollama (see Home).")
        elif status.state == "slow":
            st.caption(f"⏳ {md(status.problem)}")
        else:
            st.caption(f"⚠️ No model: {status.problem}")


def active_profile(pg: Playground) -> dict[str, Any] | None:
    pid = st.session_state.get(state.PROFILE)
    if not pid or pid not in {p["id"] for p in visible_profiles(pg)}:
        return None
    try:
        return pg.people.get_profile(pid)
    except PlaygroundError:
        return None


def need_profile(pg: Playground) -> dict[str, Any]:
    profile = active_profile(pg)
    if not profile:
        st.info("Pick or create a profile first: Profile page, or “Load demo data” on Home.")
        link_to(pg, "Profile", label="Go to Profile")
        st.stop()
    return profile


def act(action: Callable[[], Any], success: str) -> bool:
    """Run what a button asked for: on a PlaygroundError show it and return False; on success flash ``success`` and
    rerun so every widget shows the new state."""
    try:
        action()
    except PlaygroundError as e:
        show_error(e)
        return False
    flash("success", success)
    st.rerun()
    return True  # pragma: no cover - st.rerun() does not return


def delete_in_background(form: str, what: str, action: Callable[[], Any], success: str,
                      after: Callable[[], None] | None = None) -> None:
    """A deletion that must happen once and be reported even if a second click stops this run (with the purge of
    the stores' files it takes seconds). Streamlit starts the second click's run at once and a stopped run
    can no longer change the session, so the confirmation used to be lost. The action runs in a worker thread
    (``writes``), keyed by ``what`` (the same click again attaches to it); whichever run sees it finish reports it
    (``report_deletion``, which every run of the page calls), then ``after`` runs there."""
    if writes.start(form, what, lambda report: (action(), (success, after))[1]) is None:
        st.warning("Still finishing the previous deletion: try again in a moment.")
        return
    report_deletion(form)


def report_deletion(form: str) -> None:
    """If this page's background deletion is running or has just finished: wait for it, then flash its result and
    rerun so every widget shows the new state (its error, if it failed)."""
    job = writes.current(form)
    if job is None:
        return
    with st.spinner("Deleting, and clearing it from the stores' files…"):
        writes.wait(job)
    if job.error is not None:
        writes.finish(form)
        if isinstance(job.error, PlaygroundError):
            show_error(job.error)
            return
        raise job.error
    success, after = job.result
    if after:
        after()
    flash("success", success)
    writes.finish(form)
    st.rerun()


def show_error(e: Exception) -> None:
    """A PlaygroundError as the person should read it."""
    st.error(md(str(e)), icon="⚠️")  # messages quote names and titles people typed
