"""The one helper every page uses to show people's text: nothing in it becomes an image, link, HTML or formatting;
a model answer keeps its formatting and code but no image, link or HTML survives."""

import re

from components.safe_text import answer_md, md

ATTACKS = ["![.](http://127.0.0.1:9/x.png)", "[click](http://evil)", "<img src=http://127.0.0.1:9/y.png>",
           "![a][r]\n\n[r]: http://127.0.0.1:9/z.png", "<http://127.0.0.1:9/auto>", "<script>alert(1)</script>",
           ":red[colour] $x^2$ **bold** # heading"]


def test_md_escapes_every_markdown_and_html_construct():
    for attack in ATTACKS:
        out = md(attack)
        assert "<" not in out and not re.search(r"(?<!\\)[\[\]()!*#$:]", out), out


def test_answer_md_keeps_formatting_and_code_but_no_image_link_or_html():
    answer = ("**Bold** and a list:\n\n- one\n- two\n\n" + "\n\n".join(ATTACKS) +
              "\n\n```python\nx = [1](2) < 3\n```\n\nand `a[0] < b` inline")
    out = answer_md(answer)
    assert out.startswith("**Bold** and a list:\n\n- one\n- two")
    assert "```python\nx = [1](2) < 3\n```" in out and "`a[0] < b`" in out
    outside_code = out.split("```")[0]
    assert "<" not in outside_code and not re.search(r"(?<!\\)[\[\]]", outside_code), outside_code
