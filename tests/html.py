"""Parsing emitted HTML in tests: which tags and attributes really made it through."""

from __future__ import annotations

from html.parser import HTMLParser


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.attr_values: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]
        self.attr_values += attrs


def tags(markup: str) -> Tags:
    parser = Tags()
    parser.feed(markup)
    return parser


#: What rendered model Markdown may contain: elements that cannot act.
SAFE_TAGS = frozenset(
    [
        "p",
        "em",
        "strong",
        "code",
        "pre",
        "a",
        "span",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "s",
        "del",
    ]
)
_SAFE_ATTRS = {("a", "href"), ("ol", "start"), ("th", "style"), ("td", "style")}


class Dangers(HTMLParser):
    """Everything in rendered HTML that could act, or that MathJax would typeset."""

    def __init__(self, math: bool = True, tags: frozenset[str] = SAFE_TAGS) -> None:
        super().__init__()
        self.found: list[str] = []
        self.stack: list[str] = []
        self.math = math
        self.tags = tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.tags:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if (tag, name) not in _SAFE_ATTRS:
                self.found.append(f"<{tag} {name}=...>")
            elif name == "href" and not (value or "").lower().startswith(("https://", "http://")):
                self.found.append(f"<a href={value!r}>")
        if tag not in ("br", "hr"):
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr") and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.math or "code" in self.stack or "pre" in self.stack:
            return  # MathJax skips code
        if ("$" in data or "\\" in data) and not (
            data in ("$", "\\") and self.stack and self.stack[-1] == "span"
        ):
            self.found.append(f"math delimiter in text {data!r}")

    def handle_comment(self, data: str) -> None:
        self.found.append("<!--comment-->")


def dangers(markup: str, math: bool = True, tags: frozenset[str] = SAFE_TAGS) -> list[str]:
    """What could act in ``markup`` (``math``: also text MathJax would typeset)."""
    parser = Dangers(math, tags)
    parser.feed(markup)
    parser.close()
    return parser.found


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(markup: str) -> str:
    parser = Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)
