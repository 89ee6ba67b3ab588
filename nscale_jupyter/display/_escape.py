"""Escaping untrusted model text for the Markdown and HTML we emit.

The rule (see "Model Markdown" in the README): the Markdown we emit holds no
construct whose extent a renderer decides, so nothing depends on guessing
CommonMark's (or marked's, or MathJax's) rules the same way they do.

- Prose is escaped character by character: ``&`` ``<`` and the backtick as
  entities, ``[`` as an entity (no link, image or reference link can open),
  ``~~~`` as entities (no fence), and ``$`` and ``\\`` each as an entity in its
  own ``<span>`` (no math: JupyterLab hands ``$...$``, ``\\(...\\)`` and
  ``\\begin{..}`` found in the source or in the page's text to MathJax, whose
  ``\\href`` makes links of any URL). What is left is Markdown that cannot
  open raw HTML, code, a link or math: emphasis, headings, lists, quotes and
  tables still render.
- Code is ours, not the renderer's: a code span the model wrote (backticks
  matched on one line) becomes ``<code>`` and a fenced or indented block
  ``<pre><code>``, written on one line with every Markdown-significant
  character and newline as an entity, so their content shows literally
  whether the renderer reads it as HTML or as Markdown.
- A backslash escape (``\\*``) gives its character as an entity.
- Links to ``http(s)`` URLs become ``<a href>`` with the label escaped; an
  image becomes such a link too, labelled "image: ...": a remote image is
  never fetched on its own (a model fed a hostile document could put data
  in its URL); other URLs stay text.

Output is built line by line as the reply streams: complete lines are
escaped once, only the unfinished last line is redone at each render, so a
long reply costs time linear in its length.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

__all__ = ["MarkdownEscaper", "escape_html", "inert_html", "safe_markdown"]

# -- HTML ------------------------------------------------------------------------
_HTML = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        # Inert as Markdown too, wherever the HTML lands (a Markdown paragraph
        # around <sub>, the rest of an HTML block that a blank line ended): no
        # code span, link, math, table cell or fence can start (emphasis is
        # left alone: it cannot act).
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "[": "&#91;",
        "]": "&#93;",
        "~": "&#126;",
        "|": "&#124;",
    }
)


def escape_html(text: str) -> str:
    """For HTML text and attribute values alike; the result is inert as Markdown too."""
    return text.translate(_HTML)


# -- prose -----------------------------------------------------------------------
_PROSE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        "`": "&#96;",
        "[": "&#91;",
        "$": "<span>&#36;</span>",
        "\\": "<span>&#92;</span>",
    }
)
_URL = r"(?i:https?)://[^\s<>\"'`\\$|\[\]()]+"
_INLINE = re.compile(
    r"(?P<esc>\\[!-/:-@\[-`{-~])"  # a backslash escape
    r"|(?P<ticks>`+)"  # a code span, when a run as long closes it on this line
    rf"|(?P<link>(?P<bang>!?)\[(?P<label>[^\[\]`\\\n]*)\]\((?P<url>{_URL})\))"
    rf"|<(?P<auto>{_URL})>"  # an autolink
    r"|(?P<tildes>~{3,})"  # would open a fence in a list or quote
)
_TICKS = re.compile(r"`+")


def inert_html(html: str) -> str:
    """An HTML output that JupyterLab's MathJax leaves alone.

    MathJax typesets ``$...$`` and ``\\(...\\)`` it finds in the page's text,
    entities decoded, after the output is in place: model text in an HTML
    output must sit inside this class to stay text.
    """
    return f'<div class="mathjax_ignore">{html}</div>'


def _plain(text: str) -> str:
    out = text.translate(_PROSE)
    return out if "~~~" not in out else re.sub("~{3,}", lambda m: "&#126;" * len(m[0]), out)


def _entity(char: str) -> str:
    return f"<span>&#{ord(char)};</span>" if char in "$\\" else f"&#{ord(char)};"


def _code_span(content: str) -> str:
    if len(content) > 1 and content[0] == content[-1] == " " and content.strip(" "):
        content = content[1:-1]
    return f"<code>{escape_html(content).replace(chr(13), '&#13;')}</code>"


def _escape_prose(text: str) -> str:
    """One line (or the unfinished last line) of prose, as inert Markdown."""
    if not any(c in text for c in "\\`[<&$~"):
        return text
    out: list[str] = []
    runs: dict[int, list[int]] | None = None  # backtick runs by length: positions
    pos = 0
    while True:
        m = _INLINE.search(text, pos)
        if m is None:
            break
        out.append(_plain(text[pos : m.start()]))
        pos = m.end()
        kind = m.lastgroup
        if kind == "esc":
            out.append(_entity(m[0][1]))
        elif kind == "ticks":
            if runs is None:
                runs = {}
                for run in _TICKS.finditer(text):
                    runs.setdefault(len(run[0]), []).append(run.start())
            size = len(m[0])
            # A run cut by an escape ("\\``") may have no closer of its new length.
            starts = runs.get(size, [])
            i = bisect.bisect_left(starts, pos)
            if i < len(starts):
                out.append(_code_span(text[pos : starts[i]]))
                pos = starts[i] + size
            else:
                out.append("&#96;" * size)
        elif kind == "link":
            url, label = escape_html(m["url"]), _plain(m["label"]).replace("|", "&#124;")
            label = f"image: {label}" if m["bang"] else label
            out.append(f'<a href="{url}">{label}</a>')
        elif kind == "auto":
            url = escape_html(m["auto"])
            out.append(f'<a href="{url}">{url}</a>')
        else:
            out.append("&#126;" * len(m[0]))
    out.append(_plain(text[pos:]))
    return "".join(out)


# -- blocks ----------------------------------------------------------------------
_FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}(?=[^`]*$)|~{3,})")
_CLOSE = re.compile(r"[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_ITEM = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_OPEN, _END = "<pre><code>", "</code></pre>"


def _code(line: str) -> str:
    """A line of a code block, for our one-line ``<pre><code>``: newlines as entities."""
    return escape_html(line).replace("\n", "&#10;").replace("\r", "&#13;")


def _indent(line: str) -> int:
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _dedent(line: str, width: int) -> str:
    i = 0
    while i < width and i < len(line) and line[i] == " ":
        i += 1
    return line[i:]


class _State(NamedTuple):
    fence: tuple[str, int, int] | None = None  # char, length, indent of an open fence
    indented: bool = False  # in an indented code block
    blanks: int = 0  # blank lines held back inside an indented code block
    after_blank: bool = True  # the previous line was blank (or there was none)
    in_list: bool = False  # a list item came since the last unindented paragraph


def _step(state: _State, line: str) -> tuple[str, _State]:
    """Escape one line (with its "\\n", or the unfinished last line without)."""
    nl = "\n" if line.endswith("\n") else ""
    body = line[:-1] if nl else line
    if body.endswith("\r"):
        body = body[:-1]
    blank = not body.strip()
    if state.fence is not None:
        char, size, indent = state.fence
        close = _CLOSE.match(body)
        if close and close["fence"][0] == char and len(close["fence"]) >= size:
            return _END + nl, state._replace(fence=None, after_blank=False)
        return _code(_dedent(body, indent) + nl), state
    if state.indented:
        if blank:
            return "", state._replace(blanks=state.blanks + 1)
        if _indent(body) >= 4:
            code = "&#10;" * state.blanks + _code(_dedent(body.expandtabs(4), 4) + nl)
            return code, state._replace(blanks=0)
        closed = _END + "\n" + "\n" * state.blanks
        out, state = _step(_State(after_blank=state.blanks > 0, in_list=state.in_list), line)
        return closed + out, state
    width = _indent(body)
    fence = _FENCE.match(body)
    if fence and (width <= 3 or state.in_list):
        opened = (fence["fence"][0], len(fence["fence"]), width)
        return " " * min(width, 3) + _OPEN, state._replace(fence=opened, after_blank=False)
    if width >= 4 and not blank and state.after_blank and not state.in_list:
        code = _code(_dedent(body.expandtabs(4), 4) + nl)
        return _OPEN + code, state._replace(indented=True, after_blank=False)
    in_list = state.in_list
    if _ITEM.match(body):
        in_list = True
    elif not blank and width == 0 and state.after_blank:
        in_list = False
    return _escape_prose(line), state._replace(after_blank=blank, in_list=in_list)


def _closer(state: _State) -> str:
    return _END if state.fence is not None or state.indented else ""


class MarkdownEscaper:
    """Escapes Markdown as it streams in, line by line, remembering code blocks.

    Complete lines are escaped once; only the unfinished last line is redone
    at each render, so a long reply costs time linear in its length.
    """

    __slots__ = ("_done", "_state", "_tail")

    def __init__(self) -> None:
        self._done: list[str] = []
        self._tail: list[str] = []  # pieces of the unfinished last line
        self._state = _State()

    def feed(self, text: str) -> None:
        self._tail.append(text)  # no string copies per token: a long line stays linear
        if "\n" not in text:
            return
        head, _, rest = "".join(self._tail).rpartition("\n")
        self._tail = [rest] if rest else []
        state, done = self._state, self._done
        for line in head.split("\n"):
            out, state = _step(state, line + "\n")
            done.append(out)
        self._state = state

    def value(self) -> str:
        done = "".join(self._done)
        self._done = [done] if done else []
        tail = "".join(self._tail)
        self._tail = [tail] if tail else []
        out, state = _step(self._state, tail) if tail else ("", self._state)
        return done + out + _closer(state)


def safe_markdown(text: str) -> str:
    """Model text as Markdown that cannot act (see the module's docstring)."""
    escaper = MarkdownEscaper()
    escaper.feed(text)
    return escaper.value()
