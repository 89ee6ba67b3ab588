"""Model Markdown cannot act: the escaper's output checked by a CommonMark renderer.

markdown-it-py with raw HTML enabled (tables and strikethrough on) is the
oracle: for every corpus string (tests/markdown_corpus.py), for every prefix of
it as streamed through :class:`MarkdownEscaper`, and for hypothesis-generated
text, the rendered HTML holds only elements and attributes that cannot act,
and no math delimiter MathJax would pick up. The output itself holds none of
the characters a renderer could start a construct with (``$`` ``\\`` the
backtick), and only our own tags. Text still reads right.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from nscale_jupyter.display._escape import MarkdownEscaper, escape_html, safe_markdown
from tests.html import dangers, text_of
from tests.markdown_corpus import CORPUS

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
OUR_TAG = re.compile(
    r'<(?:pre><code>|/code></pre>|/?code>|/?span>|/a>|a href="https?://[^"<>\s`$\\]+">)', re.I
)
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27|#\d{1,7});")


def check(markdown: str, source: str) -> None:
    """Our output: only our tags, only entities, no construct starters; renders inert."""
    where = (source[:200], markdown[:400])
    assert not re.search(r"[`$\\]|~~~", markdown), where
    assert "<" not in OUR_TAG.sub("", markdown), where
    assert "&" not in ENTITY.sub("", markdown), where
    rendered = MD.render(markdown)
    assert dangers(rendered) == [], (*where, rendered[:600])


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 200


@pytest.mark.parametrize("source", CORPUS, ids=range(len(CORPUS)))
def test_corpus_is_inert_at_every_streaming_cut(source: str) -> None:
    check(safe_markdown(source), source)
    escaper = MarkdownEscaper()
    for char in source:  # every prefix, streamed one character at a time
        escaper.feed(char)
        check(escaper.value(), source)
    assert escaper.value() == safe_markdown(source)


TOKENS = st.sampled_from(
    [
        "`", "``", "```", "~~~", "\\", "$", "$$", "[", "]", "(", ")", "![", "](", "<", ">",
        "&", ";", "#", "*", "_", "|", "-", " ", "    ", "\t", "\n", "\n\n", "\r", "> ", "- ",
        "1. ", "javascript:alert(1)", "https://ok.example/x", "<img src=x onerror=alert(1)>",
        "<script>", "</pre>", "<pre>", "<!--", "-->", "<![CDATA[", "&#96;", "&lt;", "\\href{",
        "}{x}", "\\(", "\\[", "\\begin{equation}", "a", "word ", "é", "😀", "\x00", "@@0@@",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=40), st.lists(st.integers(1, 30), max_size=10))
def test_generated_text_is_inert(tokens: list[str], sizes: list[int]) -> None:
    text = "".join(tokens)
    check(safe_markdown(text), text)
    escaper, at = MarkdownEscaper(), 0
    for size in [*sizes, len(text)]:
        escaper.feed(text[at : at + size])
        at += size
        check(escaper.value(), text)
    assert escaper.value() == safe_markdown(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_inert(text: str) -> None:
    check(safe_markdown(text), text)


def rendered_text(source: str) -> str:
    return text_of(MD.render(safe_markdown(source)))


def test_code_shows_its_content_literally() -> None:
    assert MD.render(safe_markdown("`<b>`")) == "<p><code>&lt;b&gt;</code></p>\n"
    assert rendered_text("use `<b>` and ``a ` b``") == "use <b> and a ` b\n"
    code = "if a < b and c > 0:\n    print('$x', `y`, \"\\n\")\n\n# [not](a link)\n"
    for fence, close in (("```python\n", "```"), ("~~~\n", "~~~~"), ("```\n", "  ```  ")):
        rendered = MD.render(safe_markdown(fence + code + close + "\nafter"))
        assert text_of(rendered) == code + "\nafter\n", rendered
    indented = "".join(f"    {line}\n" if line else "\n" for line in code.splitlines())
    rendered = MD.render(safe_markdown("text\n\n" + indented + "after"))
    assert text_of(rendered) == "text\n" + code + "\nafter\n", rendered


def test_escapes_read_as_markdown_meant() -> None:
    assert rendered_text("\\`<img src=x onerror=alert(1)>`") == (
        "`<img src=x onerror=alert(1)>`\n"
    )
    assert rendered_text("\\*not em\\* 5 \\$ and $x$ C:\\dir") == "*not em* 5 $ and $x$ C:\\dir\n"
    assert rendered_text("a &amp; b <c> &lt;") == "a &amp; b <c> &lt;\n"


def test_ordinary_markdown_still_renders() -> None:
    html = MD.render(
        safe_markdown(
            "# Title\n\nSome **bold**, *em*, ~~gone~~ and [a link](https://ok.example/a_b).\n\n"
            "- one\n- two\n\n1. first\n\n> quoted\n\n| k | v |\n|---|---|\n| a | 1 |\n"
        )
    )
    for element in ("<h1>", "<strong>", "<em>", "<s>", "<ul>", "<ol>", "<blockquote>", "<td>"):
        assert element in html, (element, html)
    assert '<a href="https://ok.example/a_b">a link</a>' in html


def test_images_are_links_not_fetched() -> None:
    html = MD.render(safe_markdown("![a cat](https://img.example/cat.png?d=1&e=2)"))
    assert html == '<p><a href="https://img.example/cat.png?d=1&amp;e=2">image: a cat</a></p>\n'
    assert "<img" not in MD.render(safe_markdown("![x](data:image/png;base64,AAAA)"))
    assert (
        MD.render(safe_markdown("[x](javascript:alert(1))")) == "<p>[x](javascript:alert(1))</p>\n"
    )


def test_escape_html_is_inert_as_markdown_too() -> None:
    hostile = "a\n\n# [x](javascript:alert(1)) `<img src=x onerror=alert(1)>` $\\href{j}{k}$ *e*"
    escaped = escape_html(hostile)
    assert not re.search(r"[`$\\\[\]<>]", escaped)
    tags = frozenset({"p", "sub", "div", "code", "em", "h1"})
    for markdown in (f"<sub>{escaped}</sub>", f"<div><code>{escaped}</code></div>"):
        assert dangers(MD.render(markdown), math=False, tags=tags) == []
    assert text_of(escaped) == hostile
    # (In text/html views JupyterLab's MathJax still sees "$...$" in the page's text.)


def test_an_escaped_backtick_that_splits_a_run() -> None:
    """Found by hypothesis: "\\``" left a one-backtick run with no closer to look up."""
    from nscale_jupyter.display._escape import MarkdownEscaper, safe_markdown

    assert safe_markdown("\\``") == "&#96;&#96;"
    streamed = MarkdownEscaper()
    for piece in ("\\", "`", "`"):
        streamed.feed(piece)
    assert streamed.value() == "&#96;&#96;"
