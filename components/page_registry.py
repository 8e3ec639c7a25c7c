"""Every page of the app, declared once: its file, its title (what the sidebar, the browser tab, the page's heading
and the workshop preset call it) and its icon. The sidebar, each page's set-up and the admin's list of pages
participants may be spared read it from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    icon: str
    hideable: bool = True  # a workshop preset may hide it (Home and Study admin stay: the way in, the way back)


PAGES = (
    Page("app.py", "Home", "🏠", hideable=False),
    Page("pages/1_Profile.py", "Profile", "👤"),
    Page("pages/2_Writing_samples.py", "Writing samples", "✍️"),
    Page("pages/3_Chat.py", "Chat", "💬"),
    Page("pages/4_Personas.py", "Personas", "👥"),
    Page("pages/5_Compare.py", "Compare", "⚖️"),
    Page("pages/6_Evaluate.py", "Evaluate", "📏"),
    Page("pages/7_Study.py", "Study", "🔬"),
    Page("pages/8_Study_admin.py", "Study admin", "🗂️", hideable=False),
    Page("pages/9_Beyond_prompting.py", "Beyond prompting", "🧬"),
    Page("pages/10_Bias_probe.py", "Bias probe", "🎚️"),
)
HIDEABLE = tuple(p.title for p in PAGES if p.hideable)


def icon_of(title: str) -> str:
    return next((p.icon for p in PAGES if p.title == title), "🧪")
