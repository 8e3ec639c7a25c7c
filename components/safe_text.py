"""Showing what people typed, uploaded or a model wrote, so a browser never interprets it as markdown or HTML.

Streamlit renders markdown in st.markdown, st.caption, st.info/success/warning/error, and in widget, expander and tab
labels, and markdown images are fetched by every browser that shows them: a sample titled
``![.](http://host/x.png)`` made another user's browser request that URL. Every string that came from a person goes
through one of these before it is placed inside markdown:

- ``md(text)``: user text (names, titles, snippets, persona and study text) shown literally: every markdown and
  HTML character is escaped, so nothing is formatted, linked or fetched;
- ``answer_md(text)``: a model's answer (or researcher-written text such as consent), which may legitimately use
  markdown formatting (lists, bold, code); images, links and raw HTML are neutralised so they show as text and fetch
  nothing, and code blocks are left exactly as written.

Plain-text elements (st.text, st.code, st.dataframe, selectbox options) need neither.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the characters that can start markdown,
# HTML, Streamlit's :directives: or KaTeX.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$=^\"'])")
_FENCE = re.compile(r"(^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\2[ \t]*$|\Z))", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md(text: object) -> str:
    """``text`` as literal characters inside markdown: no formatting, links, images or HTML."""
    out = _SPECIAL.sub(r"\\\1", _html(str(text)))
    return out.replace("\n", "  \n")  # keep the writer's line breaks


def _neutralise(prose: str) -> str:
    # No raw HTML or autolinks (<...>), no images or links ([...] never opens one), no link reference definitions.
    return _html(prose).replace("[", "\\[").replace("]", "\\]")


def answer_md(text: object) -> str:
    """Markdown that keeps formatting but cannot fetch or link anything; code blocks and spans untouched."""
    text = str(text)
    out: list[str] = []
    for n, block in enumerate(_FENCE.split(text)):
        if n % 3 == 1:  # a fenced code block: shown verbatim by the renderer
            out.append(block)
            continue
        if n % 3 == 2:  # the fence marker captured by the inner group
            continue
        pos = 0
        for m in _INLINE_CODE.finditer(block):
            out.append(_neutralise(block[pos:m.start()]))
            out.append(m.group())
            pos = m.end()
        out.append(_neutralise(block[pos:]))
    return "".join(out)
